// The part of @mercuryworkshop/wisp-js's client that the bench uses (the package ships no types).
declare module "@mercuryworkshop/wisp-js/client" {
  export const client: {
    ClientConnection: new (url: string, options?: { wisp_version?: number }) => unknown;
  };
}

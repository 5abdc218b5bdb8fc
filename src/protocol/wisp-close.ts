/** The Wisp CLOSE packet's reason byte, as wisp-protocol v2 lists them. */
export const WispClose = {
  unknown: 0x01,
  /** The stream ended normally: end of stream from the target, or the client closed it. */
  voluntary: 0x02,
  /** The target connection failed after it was open (reset, error). */
  networkError: 0x03,
  incompatibleExtensions: 0x04,
  /** The CONNECT (or a later packet for the stream) was not valid. */
  invalid: 0x41,
  unreachable: 0x42,
  timeout: 0x43,
  refused: 0x44,
  transferTimeout: 0x47,
  blocked: 0x48,
  throttled: 0x49,
  clientError: 0x81,
  authBadPassword: 0xc0,
  authBadSignature: 0xc1,
  authMissingCredentials: 0xc2,
} as const;
export type WispClose = (typeof WispClose)[keyof typeof WispClose];

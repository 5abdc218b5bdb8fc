/** The one subprotocol websockify clients offer (noVNC did before 1.0; some pages still do). */
export const RAW_SUBPROTOCOL = "binary";

export type SubprotocolChoice =
  | { readonly ok: true; readonly selected: string | undefined }
  | { readonly ok: false; readonly message: string };

/**
 * Bun echoes the client's first offer unless told otherwise, so every offer is decided here:
 * socket2web's own protocol takes none; a raw session takes `binary` or none.
 */
export function chooseSubprotocol(offered: string | null, raw: boolean): SubprotocolChoice {
  if (offered === null) return { ok: true, selected: undefined };
  if (!raw) {
    return { ok: false, message: "socket2web implements no WebSocket subprotocol; offer none" };
  }
  const offers = offered.split(",").map((offer) => offer.trim());
  if (offers.includes(RAW_SUBPROTOCOL)) return { ok: true, selected: RAW_SUBPROTOCOL };
  return {
    ok: false,
    message: `this raw session speaks only the ${RAW_SUBPROTOCOL} subprotocol; offer it or none`,
  };
}

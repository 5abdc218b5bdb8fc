import { Refusal } from "../../admission/refusal.ts";
import { handshakeChooser } from "../../session/selection.ts";
import { defineFrontEnd } from "../front-end.ts";
import { serveOneSession } from "../one-session.ts";
import { urlFormChooser } from "./url-form.ts";

/** The greeting and handshake message, or the same handshake in the upgrade URL. */
export type Socket2WebClaim =
  | { readonly form: "message" }
  | { readonly form: "url"; readonly query: URLSearchParams };

const MESSAGE: Socket2WebClaim = { form: "message" };

/**
 * Socket2Web's own protocol (docs/protocol.md sections 2–4): greeting, handshake, status frames.
 * It claims every upgrade no other front end did, so it is asked last.
 */
export const socket2web = defineFrontEnd<Socket2WebClaim>({
  name: "socket2web",
  // A `protocol` parameter makes it the URL form, even with a `token` (its credential).
  claim: (url) =>
    url.searchParams.has("protocol") ? { form: "url", query: url.searchParams } : MESSAGE,
  subprotocol: (_claim, offered) =>
    offered === null
      ? undefined
      : new Refusal("bad_request", "socket2web implements no WebSocket subprotocol; offer none"),
  accept(claim, entrant, door) {
    const chooser =
      claim.form === "url"
        ? urlFormChooser(claim.query, door.registry)
        : handshakeChooser(door.registry);
    return { start: (ws) => serveOneSession(ws, door, "socket2web", entrant, chooser, "status") };
  },
});

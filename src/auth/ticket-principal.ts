import { createHash } from "node:crypto";
import type { Principal } from "./principal.ts";

/** A `sub` longer than this is cut: the name goes into every log line of the session. */
const MAX_NAME_LENGTH = 128;

/**
 * Who a verified ticket belongs to: its `sub`, as the issuer wrote it (the issuer is one,
 * `--ticket-issuer`, or the holder of the key). A ticket without `sub` is named
 * `ticket:` and 8 hex digits of the SHA-256 of its `jti` (else of the whole ticket): the same
 * ticket gets the same name, and the name reveals nothing of the ticket. Every claim is kept
 * for access rules to match (`groups`, `roles`, `iss`, …).
 */
export function ticketPrincipal(
  claims: Readonly<Record<string, unknown>>,
  ticket: string,
): Principal {
  const { sub, jti } = claims;
  const name =
    typeof sub === "string" && sub !== ""
      ? sub.slice(0, MAX_NAME_LENGTH)
      : `ticket:${sha256Hex(typeof jti === "string" && jti !== "" ? jti : ticket).slice(0, 8)}`;
  return { name, source: "ticket", claims: Object.freeze({ ...claims }) };
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

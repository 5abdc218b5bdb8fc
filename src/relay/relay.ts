import type { TransportKind } from "../adapters/types.ts";
import { MessageRelay } from "./message-relay.ts";
import { StreamRelay } from "./stream-relay.ts";
import type { RelayOptions, TargetRelay } from "./types.ts";

/** The relay for an adapter's transport kind. */
export function createRelay(transport: TransportKind, options: RelayOptions): TargetRelay {
  return transport === "stream" ? new StreamRelay(options) : new MessageRelay(options);
}

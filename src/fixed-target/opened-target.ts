import type {
  AnyProtocolAdapter,
  NetworkAdapter,
  ProtocolAdapter,
  TargetConnection,
  TargetEvents,
} from "../adapters/types.ts";
import { connectWithin } from "../session/connect.ts";

/**
 * A target connection opened before its session exists (so that a refusal can still be an HTTP
 * status). Its events wait here until the session attaches; adapters keep reading paused until
 * then, so only an end or an error can arrive early, and it is passed on once attached.
 */
export interface OpenedTarget {
  readonly address: string;
  readonly connection: TargetConnection;
  /** Hands the connection to a session: an adapter whose `open` returns it, once. */
  adapter(): AnyProtocolAdapter;
  /** Closes it when no session will take it (the upgrade failed or was refused). */
  discard(): void;
}

export async function openBeforeUpgrade<Target>(
  adapter: ProtocolAdapter<Target>,
  /** The adapter's own target (from its `parse`). */
  target: Target,
  addresses: readonly string[],
  connectTimeout: number,
): Promise<OpenedTarget> {
  let events: TargetEvents | undefined;
  let early: { kind: "end" } | { kind: "error"; error: Error } | undefined;
  const forward: TargetEvents = {
    data: (chunk) => events?.data(chunk),
    drain: () => events?.drain(),
    end: () => {
      if (events) events.end();
      else early ??= { kind: "end" };
    },
    error: (error) => {
      if (events) events.error(error);
      else early ??= { kind: "error", error };
    },
  };
  if (adapter.endpoint !== "network") {
    throw new Error(
      `a target opened before the upgrade must be a network one, not ${adapter.name}`,
    );
  }
  const { port } = adapter.locate(target);
  let address = "";
  const connection = await connectWithin(
    connectTimeout,
    addresses,
    (candidate, signal) => {
      address = candidate;
      return adapter.open(
        { target, location: { kind: "network", address: candidate, port }, signal },
        forward,
      );
    },
    // No session exists yet to own the attempt: this open has its own controller.
    new AbortController(),
  );
  let taken = false;
  return {
    address,
    connection,
    adapter: (): NetworkAdapter<Target> => ({
      name: adapter.name,
      fields: adapter.fields,
      endpoint: "network",
      transport: adapter.transport,
      parse: () => target,
      // The session checks the address already connected to, which the policy passed.
      locate: () => ({ host: address, port }),
      async open(_request, sessionEvents) {
        if (taken) throw new Error("an opened target is handed to one session only");
        taken = true;
        events = sessionEvents;
        // After the session has attached (it does so once `open` resolves).
        if (early) {
          const happened = early;
          setImmediate(() =>
            happened.kind === "end" ? sessionEvents.end() : sessionEvents.error(happened.error),
          );
        }
        return connection;
      },
    }),
    discard() {
      if (!taken) {
        taken = true;
        connection.destroy();
      }
    },
  };
}

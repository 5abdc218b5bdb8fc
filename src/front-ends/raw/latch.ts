import type { TargetEvents } from "../../adapters/types.ts";

/** Target events that arrive before anyone listens, held until `attach` and then passed on. */
export interface EventLatch {
  readonly events: TargetEvents;
  attach(listener: TargetEvents): void;
}

type Early =
  | { readonly kind: "data"; readonly chunk: Uint8Array }
  | { readonly kind: "end" }
  | { readonly kind: "error"; readonly error: Error };

/**
 * For a target opened before its session exists (a raw session, so a refusal can still be an
 * HTTP status). Adapters pause a target at its first chunk until the relay resumes it, so what can
 * come early is that chunk, an end, an error: a few events, replayed in order.
 */
export function eventLatch(): EventLatch {
  let listener: TargetEvents | undefined;
  let early: Early[] = [];
  return {
    events: {
      data: (chunk) => (listener ? listener.data(chunk) : early.push({ kind: "data", chunk })),
      drain: () => listener?.drain(),
      end: () => (listener ? listener.end() : early.push({ kind: "end" })),
      error: (error) => (listener ? listener.error(error) : early.push({ kind: "error", error })),
    },
    attach(next) {
      listener = next;
      const held = early;
      early = [];
      for (const event of held) {
        if (event.kind === "data") next.data(event.chunk);
        else if (event.kind === "end") next.end();
        else next.error(event.error);
      }
    },
  };
}

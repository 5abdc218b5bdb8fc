/** Runs `handler` once, on the first SIGINT or SIGTERM; later signals are ignored while it runs. */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => Promise<void>): void {
  let started = false;
  const listener = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    void handler(signal);
  };
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
}

// Scenario for runIsolated: this namespace gets a single ephemeral port, one connection takes it,
// and a TCP connect must then fail at once, naming why (EADDRNOTAVAIL: the kernel refuses the
// connect call itself), rather than wait for its deadline: both a direct connect (room in the
// budget) and a cancellable one (none).
import { ConnectBudget } from "../../../src/adapters/connect-budget.ts";
import { openTcp } from "../../../src/adapters/tcp-connect.ts";

const LOCAL_PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range";

export interface Outcome {
  error: string;
  settledWithinMs: number;
}

export default async function noEphemeralPort(): Promise<{
  direct: Outcome;
  cancellable: Outcome;
}> {
  // Listening first: its port comes from the range before the range is narrowed to one port.
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  // Per network namespace: this changes nothing outside the one made for this scenario.
  const only = listener.port === 40000 ? 40001 : 40000;
  await Bun.write(LOCAL_PORT_RANGE, `${only} ${only}`);
  const first = await Bun.connect({
    hostname: "127.0.0.1",
    port: listener.port,
    socket: { data() {} },
  });
  const attempt = async (budget: ConnectBudget): Promise<Outcome> => {
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(), 5000);
    const started = performance.now();
    let error = "opened";
    try {
      const connection = await openTcp({
        address: "127.0.0.1",
        port: listener.port,
        where: `127.0.0.1:${listener.port}`,
        signal: abort.signal,
        events: { data() {}, drain() {}, end() {}, error() {} },
        budget,
      });
      connection.destroy();
    } catch (caught) {
      error = (caught as Error).message;
    }
    clearTimeout(deadline);
    return { error, settledWithinMs: Math.round(performance.now() - started) };
  };
  const direct = await attempt(new ConnectBudget(1));
  const cancellable = await attempt(new ConnectBudget(0));
  first.end();
  listener.stop(true);
  return { direct, cancellable };
}

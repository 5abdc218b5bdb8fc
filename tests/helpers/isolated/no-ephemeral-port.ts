// Scenario for runIsolated: this namespace gets a single ephemeral port, one connection takes it,
// and a cancellable connect must then fail at once, naming why (EADDRNOTAVAIL: the kernel refuses
// the connect call itself), rather than wait for its deadline.
import { openCancellableTcp } from "../../../src/adapters/cancellable-connect.ts";

const LOCAL_PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range";

export default async function noEphemeralPort(): Promise<{
  error: string;
  settledWithinMs: number;
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
  const abort = new AbortController();
  const deadline = setTimeout(() => abort.abort(), 5000);
  const started = performance.now();
  let error = "opened";
  try {
    const connection = await openCancellableTcp({
      address: "127.0.0.1",
      port: listener.port,
      where: `127.0.0.1:${listener.port}`,
      signal: abort.signal,
      events: { data() {}, drain() {}, end() {}, error() {} },
    });
    connection.destroy();
  } catch (caught) {
    error = (caught as Error).message;
  }
  clearTimeout(deadline);
  first.end();
  listener.stop(true);
  return { error, settledWithinMs: Math.round(performance.now() - started) };
}

// Starts a server process on a free loopback port and waits until it accepts connections.
import { freePort, waitForPort } from "../lib/net.ts";
import { spawnTracked, type Tracked } from "../lib/procs.ts";
import { START_TIMEOUT_MS } from "./row.ts";

export async function startListening(
  label: string,
  command: (port: number) => string[],
  options: { cwd?: string; env?: Record<string, string>; readyText?: string } = {},
): Promise<{ proc: Tracked; port: number }> {
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawnTracked(label, command(port), options);
    const deadline = Date.now() + START_TIMEOUT_MS;
    let ready = false;
    while (Date.now() < deadline && proc.proc.exitCode === null) {
      // The ready line when the server prints one, else the port accepting connections.
      const printed = options.readyText !== undefined && proc.output().includes(options.readyText);
      if (printed || (await waitForPort("127.0.0.1", port, 50, 10))) {
        ready = true;
        break;
      }
      await Bun.sleep(10);
    }
    if (ready) return { proc, port };
    await Bun.sleep(100); // let the pipes drain, for the error text
    lastError = proc.output().slice(-1500);
    await proc.stop();
    if (!/in use|EADDRINUSE/i.test(lastError)) break;
  }
  throw new Error(`${label} did not start listening:\n${lastError}`);
}

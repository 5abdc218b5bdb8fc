// Scenario for runIsolated: starts the proxy with each set of arguments, stops it, and returns
// its whole output once it has answered a request (complete: the process has exited and both pipes have ended).
import { startProxy } from "../proxy.ts";

export default async function startupOutput(runs: string[][]): Promise<string[]> {
  const outputs: string[] = [];
  for (const args of runs) {
    const proxy = await startProxy(args);
    // An answer means start-up has run to its end (warnings printed, signal handlers set), so
    // SIGTERM is a clean stop that loses no output.
    const health = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
    if (health.status !== 200) throw new Error(`healthz answered ${health.status}`);
    await proxy.stop();
    outputs.push(await proxy.completeOutput());
  }
  return outputs;
}

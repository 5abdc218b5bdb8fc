// Runs one scenario module inside the network namespace made by runIsolated (see
// ../isolated-network.ts), after checking that the namespace really holds only loopback.
import { networkInterfaces, RESULT_MARK } from "../isolated-network.ts";

const interfaces = networkInterfaces();
if (interfaces.join(",") !== "lo") {
  console.error(
    `refusing to run: this network namespace has ${interfaces.join(", ")}, not only lo`,
  );
  process.exit(3);
}
const [scenarioPath] = process.argv.slice(2);
if (!scenarioPath) throw new Error("usage: run-scenario.ts SCENARIO");
const scenario = (await import(scenarioPath)).default as (input: unknown) => Promise<unknown>;
const result = await scenario(JSON.parse(process.env.SOCKET2WEB_SCENARIO_INPUT ?? "null"));
console.log(`${RESULT_MARK}${JSON.stringify(result)}`);
process.exit(0);

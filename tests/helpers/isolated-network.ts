import { readFileSync } from "node:fs";
import { processResult } from "./process-result.ts";
import { childEnv } from "./proxy.ts";

const RUNNER = new URL("./isolated/run-scenario.ts", import.meta.url).pathname;
const RESULT_MARK = "scenario result: ";

/**
 * The network interfaces of the current network namespace (from /proc/self/net/dev, which,
 * unlike /sys/class/net, always shows the namespace the process is in).
 */
export function networkInterfaces(): string[] {
  return readFileSync("/proc/self/net/dev", "utf8")
    .split("\n")
    .slice(2)
    .map((line) => line.split(":")[0]?.trim() ?? "")
    .filter((name) => name !== "");
}

/**
 * A command prefix that runs a program in a fresh network namespace holding only `lo` (brought
 * up): nothing sent there can leave the machine, whatever the program does. As root this is a
 * plain `unshare --net`; otherwise a user namespace maps the caller to root first.
 */
export function isolatedNetworkPrefix(): string[] {
  const asUser = process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"];
  return ["unshare", ...asUser, "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"];
}

/**
 * Runs `scenario` (a module whose default export is `async (input) => result`) in a fresh
 * network namespace and returns its JSON result. For tests that hand the proxy addresses
 * beyond loopback: if the code under test were broken, its packets would have nowhere to go.
 */
export async function runIsolated<T>(scenario: URL, input: unknown, timeoutMs = 60_000) {
  const proc = Bun.spawn(
    [...isolatedNetworkPrefix(), process.execPath, "run", RUNNER, scenario.pathname],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: childEnv({ SOCKET2WEB_SCENARIO_INPUT: JSON.stringify(input) }),
    },
  );
  const { stdout, stderr, code } = await processResult(proc, timeoutMs);
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARK));
  if (code !== 0 || line === undefined) {
    throw new Error(`isolated scenario failed (exit ${code}):\n${stdout}\n${stderr}`);
  }
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}

export { RESULT_MARK };

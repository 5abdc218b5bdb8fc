// Scenario for runIsolated: one proxy, one echo target, and one handshake per host; for each,
// the outcome and how many connections the target got from it.
import { attemptAndCount, type Outcome } from "../policy-attempt.ts";
import { type ChildEnv, startProxy } from "../proxy.ts";
import { startTcpTarget } from "../targets.ts";

export interface PolicyInput {
  readonly args: string[];
  readonly env: ChildEnv;
  readonly hosts: string[];
}

export type PolicyResults = Record<string, { outcome: Outcome; connections: number }>;

export default async function policyOutcomes(input: PolicyInput): Promise<PolicyResults> {
  const echo = startTcpTarget("echo");
  const proxy = await startProxy(input.args, input.env);
  const results: PolicyResults = {};
  try {
    for (const host of input.hosts) results[host] = await attemptAndCount(proxy, host, echo);
  } finally {
    await proxy.stop();
    echo.stop();
  }
  return results;
}

// Steady-state cost of socket2web's per-session address and policy helpers (ANALYSIS.md §2).
// `bun run bench/profile/micro-session.ts`
import { parseAddress } from "../../src/net/address.ts";
import { createClientAddressResolver } from "../../src/net/client-address.ts";
import { systemResolver } from "../../src/net/resolver.ts";
import { createPolicy } from "../../src/policy/policy.ts";
import { resolveTarget } from "../../src/policy/target.ts";

const CALLS = 100_000;
const WARMUP = 2_000;

async function measure(name: string, call: () => unknown): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await call();
  const started = Bun.nanoseconds();
  for (let i = 0; i < CALLS; i++) await call();
  const micros = (Bun.nanoseconds() - started) / CALLS / 1000;
  console.log(`${name.padEnd(48)} ${micros.toFixed(2)} µs/call`);
}

const policy = createPolicy({ allow: [], deny: [] });
const clientAddress = createClientAddressResolver([]);
await measure("createClientAddressResolver([])('127.0.0.1')", () => clientAddress("127.0.0.1"));
await measure("parseAddress('127.0.0.1')", () => parseAddress("127.0.0.1"));
await measure("policy.check(127.0.0.1:5000)", () =>
  policy.check({ address: "127.0.0.1", port: 5000 }),
);
await measure("await resolveTarget(policy, …, '127.0.0.1')", () =>
  resolveTarget(policy, systemResolver, "127.0.0.1", 5000),
);
await measure("baseline: await Promise.resolve()", () => Promise.resolve());
await measure("AbortController + setTimeout + clearTimeout", () => {
  const controller = new AbortController();
  clearTimeout(setTimeout(() => controller.abort(), 10_000));
});

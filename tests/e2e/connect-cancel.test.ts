import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { UNCANCELLABLE_CONNECTS } from "../../src/adapters/connect-budget.ts";
import { startBlackhole } from "../helpers/blackhole.ts";
import { startProxy } from "../helpers/proxy.ts";

/** WebSockets opening at once: well under the proxy's listen backlog, so no SYN is dropped. */
const OPENING_AT_ONCE = 200;
const CONNECT_TIMEOUT_S = 1;

function descriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Outcome {
  status: Record<string, unknown> | undefined;
  /** When the handshake went out (Date.now()). */
  sentAt: number;
  close: { code: number; reason: string };
}

/** One session whose target never answers: greeting → handshake → status → close. */
function abandonedSession(
  url: string,
  protocol: string,
  port: number,
  opened: () => void,
  sent: () => void,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let status: Record<string, unknown> | undefined;
    let greeted = false;
    let sentAt = 0;
    ws.addEventListener("open", opened, { once: true });
    ws.addEventListener("message", (event) => {
      if (!greeted) {
        greeted = true;
        ws.send(JSON.stringify({ protocol, target_ip: "127.0.0.1", target_port: port }));
        sentAt = Date.now();
        sent();
        return;
      }
      status = JSON.parse(String(event.data));
    });
    ws.addEventListener("close", (event) => {
      opened();
      resolve({ status, sentAt, close: { code: event.code, reason: event.reason } });
    });
  });
}

/**
 * `sessions` handshakes for `protocol` to a target that never answers: each must get
 * connect_timeout, and within the timeout + 1 s the proxy's descriptors must be back to idle but
 * for the connects nothing can cancel, at most the budget's size of them (the first ones, direct).
 */
async function abandonedConnects(protocol: string, sessions: number): Promise<void> {
  const blackhole = await startBlackhole();
  const proxy = await startProxy([
    "--connect-timeout",
    String(CONNECT_TIMEOUT_S),
    "--max-connections",
    String(sessions + 10),
  ]);
  const pid = proxy.proc.pid;
  const idle = descriptors(pid);

  // Open in waves: a slot frees when a WebSocket has opened (or closed).
  const outcomes: Promise<Outcome>[] = [];
  let handshakesSent = 0;
  let opening = 0;
  let slotFreed: () => void = () => {};
  for (let i = 0; i < sessions; i++) {
    while (opening >= OPENING_AT_ONCE) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
    }
    opening++;
    let counted = false;
    outcomes.push(
      abandonedSession(
        proxy.url,
        protocol,
        blackhole.port,
        () => {
          if (counted) return;
          counted = true;
          opening--;
          slotFreed();
        },
        () => handshakesSent++,
      ),
    );
  }
  // Watched while the sessions run, so that a slow test process cannot make the release late.
  const backToIdle = (async () => {
    const limit = Date.now() + 20_000;
    while (handshakesSent < sessions && Date.now() < limit) await Bun.sleep(20);
    while (descriptors(pid) > idle + UNCANCELLABLE_CONNECTS && Date.now() < limit) {
      await Bun.sleep(20);
    }
    return { at: Date.now(), descriptors: descriptors(pid) };
  })();
  const results = await Promise.all(outcomes);

  const timedOut = results.filter(
    (r) => r.status?.error === "connect_timeout" && r.close.code === 4504,
  ).length;
  expect(timedOut).toBe(sessions);

  // Every connect was abandoned at its timeout; past the budget, its descriptor must go with it,
  // not ~2 min later.
  const lastHandshake = Math.max(...results.map((r) => r.sentAt));
  const deadline = lastHandshake + (CONNECT_TIMEOUT_S + 1) * 1000;
  const released = await backToIdle;
  expect(released.descriptors).toBeLessThanOrEqual(idle + UNCANCELLABLE_CONNECTS);
  expect(released.at).toBeLessThanOrEqual(deadline);
  await proxy.stop();
  await blackhole.stop();
}

test("1,000 tcp connects to a target that never answers: each gets connect_timeout and the proxy's descriptors are back to idle, but for the budget of uncancellable connects, within the connect timeout + 1 s", async () => {
  await abandonedConnects("tcp", 1000);
}, 30_000);

test("300 tls connects to a target that never answers: the same, TLS connects are cancellable too", async () => {
  await abandonedConnects("tls", 300);
}, 30_000);

// What a client sends cannot forge, recolour or flood a text log line; who closed a session is
// logged and counted, so a client's own close code is not taken for the server's verdict.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CLIENT_TEXT_MAX, TEXT_ARG_MAX } from "../../src/log/safe-text.ts";
import { encodeConnect } from "../../src/wisp/packet.ts";
import { samples } from "../helpers/prometheus.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { openClient } from "../helpers/ws-client.ts";
import { isClose, openRawWisp } from "../wisp/raw-wisp.ts";

/** What an attacker would like a log reader to see as a line of its own. */
const FORGED = "2026-12-06T00:00:00.000Z [info] FORGED session 99 close 1000";

let echo: TcpTarget;
let proxy: RunningProxy;
beforeAll(async () => {
  echo = startTcpTarget("echo");
  proxy = await startProxy([
    "--log-level",
    "debug",
    "--wisp",
    "/wisp/",
    "--metrics",
    "--deny",
    `127.0.0.1:${echo.port}`,
  ]);
});
afterAll(async () => {
  await proxy.stop();
  echo.stop();
});

/** Sends `handshake` as the first message and waits for the session's close. */
async function handshake(fields: Record<string, unknown>) {
  const client = await openClient(proxy.url);
  await client.nextJson();
  client.send(JSON.stringify(fields));
  return client.closed;
}

const lines = () => proxy.output().split("\n");

test("a hostile target_ip, protocol and Wisp host at --log-level debug: escaped, capped, one line each", async () => {
  await handshake({ protocol: "tcp", target_ip: `evil\n${FORGED}\x1b[31m`, target_port: 80 });
  await proxy.waitForOutput(/invalid_handshake: target_ip "evil/);
  await handshake({ protocol: `tcp\r\n${FORGED}\x1b]0;pwned\x07`, target_ip: "127.0.0.1" });
  await proxy.waitForOutput(/protocol "tcp.*is not supported/);
  const wisp = await openRawWisp(`${proxy.url}/wisp/`);
  const host = `h\n${FORGED}\x1b[2J${"y".repeat(512 * 1024)}`;
  wisp.send(encodeConnect(1, 1, 80, host));
  await wisp.next(isClose(1));
  await proxy.waitForOutput(/stream 1 to \[?h/);
  wisp.close();

  const output = proxy.output();
  // No forged line, no raw control character: each arrives escaped inside its own line.
  expect(lines().filter((line) => line.includes("FORGED"))).toHaveLength(3);
  for (const line of lines()) expect(line.startsWith(FORGED)).toBe(false);
  expect(output).toContain(`evil\\n${FORGED}\\x1b[31m`);
  expect(output).toContain(`tcp\\r\\n${FORGED}\\x1b]0;pwned\\x07`);
  expect(output).toContain(`h\\n${FORGED}\\x1b[2J`);
  for (const raw of ["\x07", "\x1b", "\r"]) expect(output).not.toContain(raw);
  // The megabyte host is cut to CLIENT_TEXT_MAX characters with a marker; no line is huge.
  expect(output).toMatch(/y+…\[\d+ more chars\]/);
  const longest = Math.max(...lines().map((line) => line.length));
  expect(longest).toBeLessThan(TEXT_ARG_MAX);
  expect(longest).toBeLessThan(CLIENT_TEXT_MAX * 4 + 500);
}, 30_000);

test("a client closing with 4403 is logged and counted as the client's code, apart from the server's 4403", async () => {
  const client = await openClient(proxy.url);
  await client.nextJson();
  client.close(4403, "pretend forbidden");
  await client.closed;
  await proxy.waitForOutput(/close 4403 by client/);
  // The server's own 4403: the target is denied.
  const refused = await handshake({
    protocol: "tcp",
    target_ip: "127.0.0.1",
    target_port: echo.port,
  });
  expect(refused.code).toBe(4403);
  await proxy.waitForOutput(/close 4403 by server/);
  const metrics = samples(await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text());
  expect(
    metrics.get(
      'socket2web_sessions_total{frontend="socket2web",close_code="4403",closed_by="client"}',
    ),
  ).toBe(1);
  expect(
    metrics.get(
      'socket2web_sessions_total{frontend="socket2web",close_code="4403",closed_by="server"}',
    ),
  ).toBe(1);
}, 30_000);

// --capture-max-total on the real process: many busy sessions stay within it, the rest are counted
// and warned about; a directory open to others is warned about at start.
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "../helpers/bytes.ts";
import { samples } from "../helpers/prometheus.ts";
import { runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { tshark, tsharkMissing } from "../helpers/tshark.ts";
import { connectThrough } from "../helpers/ws-client.ts";

const root = mkdtempSync(join(tmpdir(), "socket2web-capture-total-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dirSize = (dir: string) =>
  readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

test("25 sessions of 64 KiB each way under a 300 kB total: within it, cut files say so, later sessions counted, one warning", async () => {
  const dir = join(root, "busy");
  const limit = 300_000;
  const busy = 25;
  const later = 3;
  const sessions = busy + later;
  const echo = startTcpTarget("echo");
  const proxy = await startProxy([
    "--capture",
    dir,
    "--capture-max-total",
    String(limit),
    "--metrics",
  ]);
  try {
    await proxy.waitForOutput(`at most ${limit} bytes in all`);
    const payload = randomBytes(64 * 1024);
    const session = async () => {
      const { client, status } = await connectThrough(proxy.url, {
        protocol: "tcp",
        target_ip: "127.0.0.1",
        target_port: echo.port,
      });
      expect(status.status).toBe("connected");
      client.send(payload);
      await client.readBytes(payload.byteLength);
      client.close(1000);
      await client.closed;
    };
    // All at once: each opens its file, and the total is spent while they run.
    await Promise.all(Array.from({ length: busy }, session));
    await proxy.waitForOutput("--capture-max-total reached");
    for (let i = 0; i < later; i++) await session();
    // Every session is either a file or counted as skipped, once each file is written.
    let series = new Map<string, number>();
    for (let attempt = 0; attempt < 200; attempt++) {
      series = samples(await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text());
      const files = readdirSync(dir).length;
      const skipped = series.get("socket2web_capture_sessions_skipped_total") ?? 0;
      const written = series.get("socket2web_capture_written_bytes_total") ?? 0;
      if (
        files + skipped === sessions &&
        written === dirSize(dir) &&
        series.get("socket2web_sessions_active") === 0
      )
        break;
      await Bun.sleep(25);
    }
    const files = readdirSync(dir);
    expect(dirSize(dir)).toBeLessThanOrEqual(limit);
    expect(series.get("socket2web_capture_written_bytes_total")).toBe(dirSize(dir));
    expect(series.get("socket2web_capture_sessions_skipped_total")).toBe(sessions - files.length);
    expect(files.length).toBeLessThanOrEqual(busy);
    expect(series.get("socket2web_capture_sessions_skipped_total")).toBeGreaterThanOrEqual(later);
    const cut = files.filter((name) =>
      readFileSync(join(dir, name)).includes("capture truncated: --capture-max-total"),
    );
    expect(cut.length).toBeGreaterThan(0);
    expect(proxy.output().match(/--capture-max-total reached/g)).toHaveLength(1);
    // A file cut by the total is still a whole pcapng file that tshark reads to its end.
    if (!tsharkMissing()) await tshark(join(dir, cut[0] as string), ["-q"]);
  } finally {
    await proxy.stop();
    echo.stop();
  }
}, 60_000);

test("a capture directory that exists with mode 0777 is used as it is, with a warning at start", async () => {
  const dir = join(root, "open");
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const proxy = await startProxy(["--capture", dir]);
  try {
    await proxy.waitForOutput(`--capture: the capture directory ${dir} is mode 0777`);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
  } finally {
    await proxy.stop();
  }
  const fresh = join(root, "fresh");
  const quiet = await startProxy(["--capture", fresh]);
  try {
    await quiet.waitForOutput("capture: one pcapng file per session");
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(quiet.output()).not.toContain("capture directory");
  } finally {
    await quiet.stop();
  }
}, 30_000);

test.each([
  ["0%", "a percentage from 1% to 100%"],
  ["101%", "a percentage from 1% to 100%"],
  ["100", "a whole number from 4096"],
  ["lots", "a number of bytes (at least 4096) or a percentage"],
])("--capture-max-total %s is refused: %s", async (value, expected) => {
  const run = await runStartupError([
    "--capture",
    join(root, "refused"),
    "--capture-max-total",
    value,
  ]);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain("--capture-max-total");
  expect(run.stderr).toContain(expected);
});

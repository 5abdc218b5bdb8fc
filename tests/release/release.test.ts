import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { collectOutput } from "../helpers/output.ts";
import { freePort } from "../helpers/ports.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { connectThrough } from "../helpers/ws-client.ts";
import { buildRelease, DIST, RELEASE_TARGETS, SUMS_FILE } from "./build.ts";

/** Where Debian's libc6-arm64-cross puts the arm64 loader and C library. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const arm64 = join(DIST, "socket2web-linux-arm64");

beforeAll(buildRelease, 180_000);

test("dist/SHA256SUMS lists every release binary and sha256sum -c verifies them", async () => {
  const sums = await Bun.file(join(DIST, SUMS_FILE)).text();
  const names = sums
    .trim()
    .split("\n")
    .map((line) => line.split("  ")[1]);
  expect(names).toEqual(RELEASE_TARGETS.map((target) => target.file));
  const check = Bun.spawnSync(["sha256sum", "-c", SUMS_FILE], { cwd: DIST });
  expect(check.exitCode).toBe(0);
  expect(check.stdout.toString().match(/: OK$/gm)?.length).toBe(RELEASE_TARGETS.length);
});

/** The executable format and machine in each binary's header, as its platform's loader reads it. */
test("each binary is an executable for its platform", async () => {
  const header = async (file: string) =>
    new DataView((await Bun.file(join(DIST, file)).slice(0, 4096).arrayBuffer()) as ArrayBuffer);
  const elfMachine = (view: DataView) => {
    expect(view.getUint32(0)).toBe(0x7f454c46); // "\x7fELF"
    return view.getUint16(18, true);
  };
  expect(elfMachine(await header("socket2web-linux-x64"))).toBe(0x3e); // x86-64
  expect(elfMachine(await header("socket2web-linux-arm64"))).toBe(0xb7); // AArch64
  const macho = await header("socket2web-darwin-arm64");
  expect(macho.getUint32(0, true)).toBe(0xfeedfacf); // 64-bit Mach-O
  expect(macho.getUint32(4, true)).toBe(0x0100000c); // CPU_TYPE_ARM64
  const pe = await header("socket2web-windows-x64.exe");
  expect(pe.getUint16(0, true)).toBe(0x5a4d); // "MZ"
  const peOffset = pe.getUint32(0x3c, true);
  expect(pe.getUint32(peOffset, true)).toBe(0x00004550); // "PE\0\0"
  expect(pe.getUint16(peOffset + 4, true)).toBe(0x8664); // AMD64
});

const underQemu = (args: string[]) => ["qemu-aarch64", "-L", ARM64_SYSROOT, arm64, ...args];

test("the linux-arm64 binary prints its version under qemu-user", () => {
  const run = Bun.spawnSync(underQemu(["--version"]), { env: { ...process.env, NO_COLOR: "1" } });
  expect(run.stderr.toString()).toBe("");
  expect(run.stdout.toString().trim()).toBe(packageJson.version);
  expect(run.exitCode).toBe(0);
}, 30_000);

test("the linux-arm64 binary proxies an echo session on loopback under qemu-user", async () => {
  const echo = startTcpTarget("echo");
  const port = await freePort();
  const proc = Bun.spawn(underQemu(["--ip", "127.0.0.1", "--port", String(port)]), {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = collectOutput(proc);
  try {
    // Emulation makes start-up several times slower than native.
    await output.waitFor("listening on", 30_000);
    const { client, status } = await connectThrough(`ws://127.0.0.1:${port}`, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: echo.port,
    });
    expect(status).toMatchObject({ status: "connected", target_port: echo.port });
    const payload = new TextEncoder().encode("hello from arm64 ".repeat(1000));
    client.send(payload);
    expect(await client.readBytes(payload.byteLength, 15_000)).toEqual(payload);
    client.close(1000);
    expect((await client.closed).code).toBe(1000);
  } finally {
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    echo.stop();
  }
}, 60_000);

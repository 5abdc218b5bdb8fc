import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processResult } from "../helpers/process-result.ts";
import { buildRelease, DIST, ROOT } from "../release/build.ts";

/*
 * deploy/socket2web.service booted for real: systemd as PID 1 of a systemd-nspawn container whose
 * /usr is this machine's (read-only) and whose /etc holds only the unit and its settings, as an
 * administrator would write them (root's, 0600). The container has a network of its own with
 * nothing but loopback; the test reaches the service there, with this binary's own `probe`.
 * tests/setup/install-operations-tools.sh installs systemd-nspawn.
 */

const UNIT = join(ROOT, "deploy", "socket2web.service");
const INSTALLED_BINARY = "/usr/local/bin/socket2web";
/** /usr is the host's, read-only: the binary is bound in beside it. */
const CONTAINER_BINARY = "/opt/socket2web/socket2web";
/** Any port: the container's loopback is its own. */
const PORT = 8080;
const hostBinary = join(DIST, `socket2web-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);

/** Why this machine cannot boot the container, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== "linux") return "Linux";
  if (process.getuid?.() !== 0) return "root (systemd-nspawn)";
  for (const tool of ["systemd-nspawn", "nsenter"]) {
    if (!Bun.which(tool)) return `${tool} (make test-deps installs it)`;
  }
  if (!existsSync("/usr/lib/systemd/systemd")) return "systemd (/usr/lib/systemd/systemd)";
  // The container gets /usr alone: /bin and /lib must be links into it (Debian 12 and later).
  if (!lstatSync("/bin").isSymbolicLink()) return "a merged /usr (/bin a link to usr/bin)";
  return undefined;
}

const missing = missingPrerequisite();
if (missing) console.warn(`skipping the systemd boot test: it needs ${missing}`);

const scratch = mkdtempSync(join(tmpdir(), "socket2web-nspawn-"));
let container: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
let bootOutput = Promise.resolve("");

beforeAll(async () => {
  if (!missing) await buildRelease();
}, 180_000);

afterAll(async () => {
  if (container) {
    // systemd-nspawn turns SIGTERM into a clean power-off of the container.
    container.kill("SIGTERM");
    const timer = setTimeout(() => container?.kill("SIGKILL"), 15_000);
    await container.exited;
    clearTimeout(timer);
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** The container's file system: links into /usr, /etc with the unit and the settings. */
function makeRoot(): string {
  const root = join(scratch, "root");
  for (const dir of [
    "usr",
    "etc/systemd/system",
    "etc/socket2web",
    "opt/socket2web",
    "var",
    "tmp",
  ]) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  for (const link of ["bin", "lib", "lib64", "sbin"]) symlinkSync(`usr/${link}`, join(root, link));
  writeFileSync(join(root, "etc/os-release"), readFileSync("/usr/lib/os-release"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  // Empty: systemd makes one up at boot.
  writeFileSync(join(root, "etc/machine-id"), "");
  writeFileSync(join(root, CONTAINER_BINARY), "");
  writeFileSync(
    join(root, "etc/systemd/system/socket2web.service"),
    readFileSync(UNIT, "utf8").replaceAll(INSTALLED_BINARY, CONTAINER_BINARY),
  );
  const settings = join(root, "etc/socket2web/socket2web.toml");
  writeFileSync(settings, `ip = "127.0.0.1"\nport = ${PORT}\n`);
  chmodSync(settings, 0o600);
  // The mode the unit's ConfigurationDirectoryMode gives a directory it creates.
  chmodSync(join(root, "etc/socket2web"), 0o700);
  return root;
}

/** Runs a command inside the container (all its namespaces), within 20 s. */
async function inside(leader: number, ...command: string[]) {
  const proc = Bun.spawn(["nsenter", "-t", String(leader), "-a", ...command], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const result = await processResult(proc, 20_000);
  return { ...result, out: (result.stdout + result.stderr).trim() };
}

/** The container's PID 1 as the host sees it: systemd-nspawn's child once it runs systemd. */
async function containerInit(nspawn: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const children = readFileSync(`/proc/${nspawn}/task/${nspawn}/children`, "utf8")
      .split(" ")
      .filter((pid) => pid !== "")
      .map(Number);
    for (const pid of children) {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "systemd") return pid;
    }
    await Bun.sleep(50);
  }
  throw new Error(`systemd-nspawn did not start systemd:\n${await bootOutput}`);
}

/** `socket2web probe` of the service's /healthz, run in the container's network only. */
async function probe(init: number): Promise<string> {
  const proc = Bun.spawn(
    ["nsenter", "-t", String(init), "-n", hostBinary, "probe", `http://127.0.0.1:${PORT}/healthz`],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const result = await processResult(proc, 20_000);
  return (result.stdout + result.stderr).trim();
}

test.skipIf(missing !== undefined)(
  "the systemd unit boots under systemd: starts as a dynamic user reading root's 0600 settings, answers, stops cleanly",
  async () => {
    const root = makeRoot();
    container = Bun.spawn(
      [
        "systemd-nspawn",
        "--quiet",
        `--directory=${root}`,
        "--bind-ro=/usr",
        `--bind-ro=${hostBinary}:${CONTAINER_BINARY}`,
        "--boot",
        // No systemd on the host to register with or to make a scope: stay in this cgroup.
        "--register=no",
        "--keep-unit",
        "--link-journal=no",
        "--private-network",
        "--console=pipe",
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const { stdout, stderr } = container;
    bootOutput = Promise.all([new Response(stdout).text(), new Response(stderr).text()]).then(
      (parts) => parts.join(""),
    );
    const init = await containerInit(container.pid);
    // Until systemd has opened its control socket, systemctl cannot reach it.
    let booted = await inside(init, "systemctl", "is-system-running", "--wait");
    for (let i = 0; i < 200 && booted.out.includes("Failed to connect to bus"); i++) {
      await Bun.sleep(50);
      booted = await inside(init, "systemctl", "is-system-running", "--wait");
    }
    expect(booted.out).toMatch(/^(running|degraded)$/);

    const start = await inside(init, "systemctl", "start", "socket2web");
    const journal = async () =>
      (await inside(init, "journalctl", "--no-pager", "-o", "cat", "-u", "socket2web")).out;
    expect(start.code, `systemctl start: ${start.out}\n${await journal()}`).toBe(0);

    const healthy = `http://127.0.0.1:${PORT}/healthz: HTTP 200`;
    let health = await probe(init);
    for (let i = 0; i < 100 && health !== healthy; i++) {
      await Bun.sleep(50);
      health = await probe(init);
    }
    expect(health, await journal()).toBe(healthy);

    // The settings stayed root's; the process is not root and reads systemd's copy.
    const pid = (await inside(init, "systemctl", "show", "-p", "MainPID", "--value", "socket2web"))
      .out;
    const status = await inside(init, "cat", `/proc/${pid}/status`);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status.out)?.[1]);
    expect(uid).toBeGreaterThan(0);
    const mode = await inside(init, "stat", "-c", "%a %U", "/etc/socket2web");
    expect(mode.out).toBe("700 root");

    const stop = await inside(init, "systemctl", "stop", "socket2web");
    expect(stop.code, stop.out).toBe(0);
    const after = await inside(
      init,
      "systemctl",
      "show",
      "-p",
      "ActiveState",
      "-p",
      "Result",
      "-p",
      "ExecMainStatus",
      "socket2web",
    );
    expect(after.out.split("\n").sort()).toEqual([
      "ActiveState=inactive",
      "ExecMainStatus=0",
      "Result=success",
    ]);
    expect(await probe(init)).toContain("socket2web probe:");
  },
  60_000,
);

import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runWithInput } from "./client-cli.ts";
import { freePort } from "./ports.ts";
import { removeTempDir, tempDir } from "./tls-cert.ts";

const SSHD = "/usr/sbin/sshd";

export interface LoopbackSshd {
  readonly port: number;
  readonly user: string;
  /** The client's private key, accepted by this sshd only. */
  readonly keyFile: string;
  stop(): Promise<void>;
}

/** Why a real sshd cannot be started here, or undefined when it can. */
export function sshdMissing(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is not installed (make test-deps)`;
  if (Bun.which("ssh") === null) return "ssh is not installed (make test-deps)";
  if (Bun.which("ssh-keygen") === null) return "ssh-keygen is not installed";
  return undefined;
}

async function run(command: string[]): Promise<void> {
  const proc = Bun.spawn(command, { stdout: "ignore", stderr: "pipe" });
  if ((await proc.exited) !== 0)
    throw new Error(`${command[0]} failed: ${await new Response(proc.stderr).text()}`);
}

/**
 * A real sshd on 127.0.0.1 with its own host key and one authorized key, for the current user,
 * in a temporary directory (no system configuration read or changed but sshd's /run/sshd).
 */
export async function startSshd(): Promise<LoopbackSshd> {
  const dir = tempDir("socket2web-sshd-");
  const hostKey = join(dir, "host_key");
  const keyFile = join(dir, "user_key");
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
  writeFileSync(join(dir, "authorized_keys"), await Bun.file(`${keyFile}.pub`).text(), {
    mode: 0o600,
  });
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "",
    ].join("\n"),
  );
  // Privilege separation needs this directory when sshd runs as root.
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true });
  const proc = Bun.spawn([SSHD, "-D", "-e", "-f", config], { stdout: "ignore", stderr: "pipe" });
  // sshd writes "Server listening on …" to stderr (-e) once it accepts connections.
  const reader = proc.stderr.getReader();
  let seen = "";
  const deadline = Date.now() + 10_000;
  while (!seen.includes("Server listening")) {
    const next = await Promise.race([
      reader.read(),
      Bun.sleep(Math.max(0, deadline - Date.now())).then(() => undefined),
    ]);
    if (next === undefined || next.done) {
      proc.kill();
      removeTempDir(dir);
      throw new Error(`sshd did not start: ${seen}`);
    }
    seen += new TextDecoder().decode(next.value);
  }
  reader.releaseLock();
  void proc.stderr.pipeTo(new WritableStream()).catch(() => {});
  return {
    port,
    // Bun's os.userInfo() can say "unknown" where id(1) knows the name.
    user: Bun.spawnSync(["id", "-un"]).stdout.toString().trim(),
    keyFile,
    async stop() {
      proc.kill();
      await proc.exited;
      removeTempDir(dir);
    },
  };
}

/** Why `nc -X 5` (OpenBSD netcat's SOCKS5 client) is unavailable, or undefined. */
export function socksNetcatMissing(): string | undefined {
  if (Bun.which("nc") === null) return "nc is not installed (make test-deps: netcat-openbsd)";
  const help = Bun.spawnSync(["nc", "-h"], { stdout: "pipe", stderr: "pipe" });
  const text = `${help.stdout.toString()}${help.stderr.toString()}`;
  return text.includes("OpenBSD") ? undefined : "nc is not OpenBSD netcat (no -X 5)";
}

/** The real ssh client running `command` on `sshd`, its ProxyCommand `nc -X 5` to a SOCKS5 port. */
export function sshThroughSocks(sshd: LoopbackSshd, socksPort: number, command: string): string[] {
  return [
    "ssh",
    "-i",
    sshd.keyFile,
    "-p",
    String(sshd.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    `ProxyCommand=nc -X 5 -x 127.0.0.1:${socksPort} %h %p`,
    `${sshd.user}@127.0.0.1`,
    command,
  ];
}

/**
 * The test both SOCKS front ends pass: ssh, with OpenBSD netcat's SOCKS5 client as its
 * ProxyCommand, runs a command on a loopback sshd through the SOCKS port `socksPort()` names.
 */
export function testSshThroughSocks(socksPort: () => number): void {
  const skip = sshdMissing() ?? socksNetcatMissing();
  if (skip) console.log(`skipping the ssh test: ${skip}`);
  test.skipIf(skip !== undefined)(
    "ssh, with OpenBSD netcat's SOCKS5 client as its ProxyCommand, runs a command on a loopback sshd",
    async () => {
      const sshd = await startSshd();
      try {
        const result = await runWithInput(
          sshThroughSocks(sshd, socksPort(), "echo hello from sshd"),
          null,
          20_000,
        );
        expect(result.stderr).toBe("");
        expect(new TextDecoder().decode(result.stdout)).toBe("hello from sshd\n");
        expect(result.exitCode).toBe(0);
      } finally {
        await sshd.stop();
      }
    },
    30_000,
  );
}

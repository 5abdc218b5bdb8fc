import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt, SignJWT } from "jose";
import { clientCommand, runWithInput } from "../helpers/client-cli.ts";
import { type RunningProxy, runProxyCommand, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { tempDir } from "../helpers/tls-cert.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Runs a shell line as the README's security quick-start writes it, in `cwd`. */
async function sh(line: string, cwd: string): Promise<void> {
  const proc = Bun.spawn(["sh", "-c", line], { cwd, stdout: "ignore", stderr: "pipe" });
  const stderr = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`${line}: ${stderr}`);
}

async function mint(args: string[]): Promise<string> {
  const result = await runProxyCommand(["ticket", ...args]);
  if (result.code !== 0) throw new Error(`ticket ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

let dir: string;
let echo: TcpTarget;
let other: TcpTarget;
let proxy: RunningProxy;

beforeAll(async () => {
  dir = tempDir("socket2web-ticket-");
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
  // The quick-start's inputs, made with the commands the README gives.
  await sh(
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout privkey.pem -out fullchain.pem",
    dir,
  );
  await sh("openssl rand -base64 48 > ticket-secret", dir);
  await sh(
    "openssl genpkey -algorithm ed25519 -out ticket-key.pem && openssl pkey -in ticket-key.pem -pubout -out ticket-key.pub",
    dir,
  );
  proxy = await startProxy([
    "--tls-cert",
    join(dir, "fullchain.pem"),
    "--tls-key",
    join(dir, "privkey.pem"),
    "--ticket-secret-file",
    join(dir, "ticket-secret"),
    "--ticket-public-key",
    join(dir, "ticket-key.pub"),
  ]);
});

afterAll(async () => {
  await proxy.stop();
  echo.stop();
  other.stop();
  rmSync(dir, { recursive: true, force: true });
});

const connectWith = (ticket: string, port: number) =>
  runWithInput(
    [
      ...clientCommand(),
      "connect",
      "--server",
      proxy.url.replace("ws://", "wss://"),
      "--ca",
      join(dir, "fullchain.pem"),
      "--target",
      `127.0.0.1:${port}`,
      "--token",
      ticket,
      "--linger",
      "0.3",
    ],
    new TextEncoder().encode("ticketed\n"),
  );

describe("socket2web ticket", () => {
  test("an HS256 ticket minted from the secret file is accepted by the server (wss://)", async () => {
    const ticket = await mint([
      "--ticket-secret-file",
      join(dir, "ticket-secret"),
      "--allow",
      `127.0.0.1:${echo.port}`,
      "--protocols",
      "tcp",
      "--ttl",
      "60",
    ]);
    expect(ticket.split(".")).toHaveLength(3);
    // A random jti, so that a --ticket-single-use server takes it (once).
    const { jti } = decodeJwt(ticket);
    expect(jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const again = await mint(["--ticket-secret-file", join(dir, "ticket-secret")]);
    expect(decodeJwt(again).jti).not.toBe(jti);
    const result = await connectWith(ticket, echo.port);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout)).toBe("ticketed\n");
  });

  test("the ticket's allow claim narrows what it reaches: another port is forbidden", async () => {
    const ticket = await mint([
      "--ticket-secret-file",
      join(dir, "ticket-secret"),
      "--allow",
      `127.0.0.1:${echo.port}`,
    ]);
    const result = await connectWith(ticket, other.port);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("connect: forbidden");
    expect(other.received).toHaveLength(0);
  });

  test("an EdDSA ticket minted from a private key is accepted", async () => {
    const ticket = await mint(["--private-key", join(dir, "ticket-key.pem"), "--ttl", "30"]);
    const result = await connectWith(ticket, echo.port);
    expect(result.stderr).toBe("");
    expect(text(result.stdout)).toBe("ticketed\n");
  });

  test("an expired ticket is refused saying it has expired, without the ticket", async () => {
    const secret = (await Bun.file(join(dir, "ticket-secret")).text()).replace(/\r?\n$/, "");
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(secret));
    const result = await connectWith(expired, echo.port);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "connect: unauthorized: a valid credential is required: the ticket has expired\n",
    );
  });

  test("a ticket signed with another secret is refused as unauthorized", async () => {
    await sh("openssl rand -base64 48 > other-secret", dir);
    const ticket = await mint(["--ticket-secret-file", join(dir, "other-secret")]);
    const result = await connectWith(ticket, echo.port);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("unauthorized");
  });

  test.each([
    [[], "exactly one of --ticket-secret-file and --private-key"],
    [["--ticket-secret-file", "/nonexistent/secret"], "--ticket-secret-file cannot read"],
    [["--ticket-secret-file", "SHORT"], "at least 32 bytes"],
    [["--ticket-secret-file", "SECRET", "--allow", "10.0.0.0/99"], "--allow"],
    [
      ["--ticket-secret-file", "SECRET", "--ttl", "0"],
      "--ttl expects a whole number from 1 to 86400, got 0",
    ],
    [
      ["--ticket-secret-file", "SECRET", "--ttl", "0.5"],
      '--ttl expects a whole number from 1 to 86400, got "0.5"',
    ],
    [
      ["--ticket-secret-file", "SECRET", "--protocols", "tcp,tpc"],
      '--protocols: no protocol is called "tpc" (did you mean tcp?); the protocols are tcp, tls, udp, unix',
    ],
    [
      ["--ticket-secret-file", "SECRET", "--allow", "127.0.0.1,127.0.0.2"],
      "(repeat --allow for each rule)",
    ],
    [["--ticket-secret-file", "SECRET", "--protocols", ","], "--protocols"],
    [["--private-key", "SECRET"], "not a PEM private key"],
  ])("%j exits 2 saying %s", async (args, message) => {
    await sh("printf short > short-secret", dir);
    const resolved = args.map((arg) =>
      arg === "SHORT"
        ? join(dir, "short-secret")
        : arg === "SECRET"
          ? join(dir, "ticket-secret")
          : arg,
    );
    const result = await runProxyCommand(["ticket", ...resolved]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });
});

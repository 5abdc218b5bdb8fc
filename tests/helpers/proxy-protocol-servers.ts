import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type CollectedOutput, collectOutput } from "./output.ts";
import { freePort } from "./ports.ts";

/**
 * Unmodified servers that parse the PROXY protocol, from Debian, each run from a generated
 * configuration in a test's own directory, on loopback, in the foreground: HAProxy (`accept-proxy`)
 * and nginx (`listen … proxy_protocol`). Each answers HTTP `GET /` with 200 and logs one line per
 * request naming the client address the PROXY header gave it.
 */
export interface PpServer {
  /** One line per request so far. */
  log(): string;
  /** Waits until the log holds a line matching `pattern` (bounded). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface RunningHaproxy extends PpServer {
  /** `bind 127.0.0.1:PORT accept-proxy`, plain HTTP. */
  readonly port: number;
  /** `bind 127.0.0.1:PORT accept-proxy ssl`: the header comes before the TLS handshake. */
  readonly tlsPort: number;
  /** `bind unix@PATH accept-proxy`. */
  readonly unixPath: string;
}

export interface RunningNginx extends PpServer {
  readonly port: number;
}

/** Why these tests cannot run here, or undefined when both servers are installed. */
export function missingProxyProtocolServers(): string | undefined {
  const missing = ["haproxy", "nginx"].filter(
    (name) => Bun.which(name, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }) === null,
  );
  return missing.length === 0
    ? undefined
    : `${missing.join(" and ")} not installed (bash tests/setup/install-proxy-protocol-servers.sh)`;
}

const sbin = (name: string) =>
  Bun.which(name, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }) ?? name;

/**
 * The log line: the client address and port the header gave, the destination it named, and for
 * v2 the TLVs (authority, unique id); `-` where there is none.
 */
const HAPROXY_LOG =
  "pp client=%ci:%cp dst=%fi:%fp authority=%[fc_pp_authority] id=%[fc_pp_unique_id] path=%HP";

/** A plain, a TLS and a unix listener, all `accept-proxy`; TLS with `certAndKey` (one PEM file). */
export async function startHaproxy(dir: string, certAndKey: string): Promise<RunningHaproxy> {
  const port = await freePort();
  const tlsPort = await freePort();
  const unixPath = join(dir, "haproxy.sock");
  const config = join(dir, "haproxy.cfg");
  writeFileSync(
    config,
    [
      "global",
      "  log stdout format raw local0",
      "defaults",
      "  mode http",
      "  log global",
      // The tests' own probes of the port send no request: no line for them.
      "  option dontlognull",
      "  timeout connect 5s",
      "  timeout client 10s",
      "  timeout server 10s",
      "frontend web",
      `  bind 127.0.0.1:${port} accept-proxy`,
      `  bind 127.0.0.1:${tlsPort} accept-proxy ssl crt ${certAndKey}`,
      `  bind unix@${unixPath} accept-proxy`,
      `  log-format "${HAPROXY_LOG}"`,
      '  http-request return status 200 content-type text/plain string "ok\\n"',
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn([sbin("haproxy"), "-f", config, "-db"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collectOutput(proc);
  await waitForListening(proc, output, port, "haproxy");
  const log = () =>
    output
      .text()
      .split("\n")
      .filter((line) => line.startsWith("pp "))
      .join("\n");
  return {
    port,
    tlsPort,
    unixPath,
    log,
    waitForLog: (pattern, timeoutMs = 10_000) => waitForLine(log, pattern, timeoutMs, "haproxy"),
    stop: () => stopProcess(proc),
  };
}

/** `listen 127.0.0.1:PORT proxy_protocol`, logging `$proxy_protocol_addr` (nginx 1.22 reads no TLVs). */
export async function startNginx(dir: string): Promise<RunningNginx> {
  const port = await freePort();
  const config = join(dir, "nginx.conf");
  const accessLog = join(dir, "nginx-access.log");
  writeFileSync(accessLog, "");
  const temp = (name: string) => `${name} ${join(dir, `nginx-${name}`)};`;
  writeFileSync(
    config,
    [
      "daemon off;",
      // One process as the test's own user: nothing changes user, nothing leaves the directory.
      "master_process off;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "nginx-error.log")} info;`,
      "events { worker_connections 64; }",
      "http {",
      "  log_format pp 'pp client=$proxy_protocol_addr:$proxy_protocol_port dst=$proxy_protocol_server_addr:$proxy_protocol_server_port remote=$remote_addr path=$request_uri';",
      `  access_log ${accessLog} pp;`,
      `  ${temp("client_body_temp_path")}`,
      `  ${temp("proxy_temp_path")}`,
      `  ${temp("fastcgi_temp_path")}`,
      `  ${temp("uwsgi_temp_path")}`,
      `  ${temp("scgi_temp_path")}`,
      "  server {",
      `    listen 127.0.0.1:${port} proxy_protocol;`,
      '    location / { return 200 "ok\\n"; }',
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(
    [sbin("nginx"), "-p", dir, "-e", join(dir, "nginx-error.log"), "-c", config],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const output = collectOutput(proc);
  await waitForListening(proc, output, port, "nginx");
  const log = () => readFileSync(accessLog, "utf8");
  return {
    port,
    log,
    waitForLog: (pattern, timeoutMs = 10_000) => waitForLine(log, pattern, timeoutMs, "nginx"),
    stop: () => stopProcess(proc),
  };
}

/** Connects until the port accepts (the server has no ready line of its own), bounded. */
async function waitForListening(
  proc: Subprocess<"ignore", "pipe", "pipe">,
  output: CollectedOutput,
  port: number,
  name: string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const open = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
      (socket) => {
        socket.end();
        return true;
      },
      () => false,
    );
    if (open) return;
    await Bun.sleep(25);
  }
  proc.kill("SIGKILL");
  throw new Error(`${name} did not listen on ${port}:\n${output.text()}`);
}

async function waitForLine(
  log: () => string,
  pattern: RegExp,
  timeoutMs: number,
  name: string,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = log()
      .split("\n")
      .find((candidate) => pattern.test(candidate));
    if (line !== undefined) return line;
    if (Date.now() > deadline) {
      throw new Error(`${name} logged no line matching ${pattern}; its log:\n${log()}`);
    }
    // A log written by another process: polled, as there is no event to wait on.
    await Bun.sleep(20);
  }
}

async function stopProcess(proc: Subprocess<"ignore", "pipe", "pipe">): Promise<void> {
  if (proc.exitCode === null) proc.kill("SIGKILL");
  await proc.exited;
}

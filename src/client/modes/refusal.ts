import { formatHostPort } from "../../net/host-port.ts";
import { Socket2WebError } from "../index.ts";
import type { ProxyEndpointOptions } from "./client-options.ts";
import { tlsOptions } from "./client-socket.ts";

/**
 * What forward's start-up check presents when no credential is given: a server that requires
 * none ignores an Authorization header, one that requires a credential refuses this with 401.
 */
export const NO_CREDENTIAL_PROBE = "no-credential-given";

/** Bounds on the diagnostic request: it only reads a refusal's status line and short body. */
const DIAGNOSIS_TIMEOUT_MS = 5_000;
const MAX_RESPONSE_BYTES = 8 * 1024;
const MAX_BODY_CHARS = 300;

type UpgradeAnswer =
  | { kind: "response"; status: number; statusText: string; body: string }
  | { kind: "unreachable"; code: string; message: string }
  | { kind: "tls"; message: string };

/**
 * A WebSocket client sees a refused upgrade only as "Expected 101 status code: 403" (Bun's and
 * browsers' WebSocket hide the body, where the server says why). When opening failed, ask once
 * more with a plain upgrade request and read the answer: the server's status and reason, or
 * why its address could not be reached.
 */
export async function explainFailure(
  options: ProxyEndpointOptions,
  url: URL,
  error: unknown,
): Promise<string> {
  const plain = error instanceof Socket2WebError ? error.message : String(error);
  if (!(error instanceof Socket2WebError) || error.code !== "network_error") return plain;
  const where = `the proxy at ${options.server.href}`;
  let answer: UpgradeAnswer;
  try {
    answer = await askUpgrade(options, url);
  } catch {
    return plain;
  }
  if (answer.kind === "tls") return `${where}: ${answer.message}`;
  if (answer.kind === "unreachable") {
    const address = formatHostPort(hostOf(url), portOf(url));
    return (
      `cannot reach ${where} (${address}): ${answer.message}; check that socket2web is running ` +
      `there and that --server names its address and port${answer.code === "EOF" ? ` (is it a ${url.protocol === "wss:" ? "ws://" : "wss://"} server?)` : ""}`
    );
  }
  if (answer.status === 101) return plain;
  // The server's body often starts with its status line again ("403 Forbidden: …").
  const body = answer.body.replace(new RegExp(`^${answer.status}\\b[^:]*:\\s*`), "");
  const reason = body ? `: ${body}` : "";
  // The server's words would be about the placeholder, which the user never gave.
  if (answer.status === 401 && authorization(options) === `Bearer ${NO_CREDENTIAL_PROBE}`)
    return `${where} requires a credential (HTTP 401 without one)${GIVE_CREDENTIAL}`;
  return `${where} refused the upgrade with HTTP ${answer.status} ${answer.statusText}${reason}${hint(answer.status, body, options)}`;
}

const GIVE_CREDENTIAL = ` (give a credential with --token, or --header "Authorization: Bearer …")`;

function authorization(options: ProxyEndpointOptions): string | undefined {
  return Object.entries(options.headers).find(
    ([name]) => name.toLowerCase() === "authorization",
  )?.[1];
}

function hint(status: number, body: string, options: ProxyEndpointOptions): string {
  if (status === 401) {
    // forward's start-up check sends --token as the header.
    const bearer = authorization(options);
    if (bearer === undefined) return GIVE_CREDENTIAL;
    return options.token !== undefined && bearer === `Bearer ${options.token}`
      ? " (the server refused the credential of --token)"
      : " (the server refused the credential of the Authorization header)";
  }
  // A 403 is also how a server refuses a target before the upgrade: only an Origin refusal gets this hint.
  if (status === 403 && /origin/i.test(body))
    return " (the server's --allow-origin: pass the page's origin with --origin)";
  return "";
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "wss:" ? 443 : 80;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused (nothing listens on that port)",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "no answer",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * The verification failures (OpenSSL's X509_V_ERR_* names, Node's ERR_TLS_CERT_ALTNAME_INVALID):
 * the server spoke TLS and its certificate is the problem. Any other handshake failure
 * (EPROTO: WRONG_VERSION_NUMBER when a plain HTTP server answers) is not about trust.
 */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME|HOSTNAME|ISSUER/;

/** One plain upgrade request (no WebSocket), reading the status line and a short body. */
function askUpgrade(options: ProxyEndpointOptions, url: URL): Promise<UpgradeAnswer> {
  const host = hostOf(url);
  const port = portOf(url);
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const extra = Object.entries(options.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const request =
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\n` +
    `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`;
  const tls = tlsOptions(options);
  return new Promise<UpgradeAnswer>((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: UpgradeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const timer = setTimeout(
      () =>
        finish({ kind: "unreachable", code: "ETIMEDOUT", message: ERRNO_TEXT.ETIMEDOUT as string }),
      DIAGNOSIS_TIMEOUT_MS,
    );
    const parse = (complete: boolean) => {
      const answer = parseResponse(received, complete);
      if (answer) finish(answer);
      return answer !== undefined;
    };
    Bun.connect({
      hostname: host,
      port,
      ...(tls ? { tls: { ...tls, serverName: host } } : {}),
      socket: {
        open(socket) {
          // Over TLS, bytes written before the handshake are lost: send in `handshake`.
          if (!tls) socket.write(request);
        },
        handshake(socket, _success, authorizationError) {
          if (authorizationError && tls?.rejectUnauthorized) {
            const code =
              (authorizationError as { code?: string }).code ?? authorizationError.message;
            finish({
              kind: "tls",
              message: CERTIFICATE_ERROR.test(code)
                ? `its certificate is not trusted (${code}); give its CA with --ca FILE, or --insecure for testing`
                : `is it a ws:// server? It did not answer TLS (${code})`,
            });
            socket.end();
            return;
          }
          socket.write(request);
        },
        data(socket, chunk) {
          received = Buffer.concat([received, chunk]).subarray(0, MAX_RESPONSE_BYTES);
          if (parse(received.byteLength >= MAX_RESPONSE_BYTES)) socket.end();
        },
        close() {
          if (!parse(true))
            finish({
              kind: "unreachable",
              code: "EOF",
              message: "the server closed the connection without an answer",
            });
        },
        error() {},
        connectError(_socket, error) {
          const code = (error as { code?: string }).code ?? "";
          finish({ kind: "unreachable", code, message: ERRNO_TEXT[code] ?? error.message });
        },
      },
    }).then(
      (socket) => {
        if (settled) socket.end();
      },
      (error: unknown) => {
        const code = (error as { code?: string }).code ?? "";
        finish({
          kind: "unreachable",
          code,
          message: ERRNO_TEXT[code] ?? (error as Error).message ?? String(error),
        });
      },
    );
  });
}

/** The status and body once they are complete (by Content-Length, or at the connection's end). */
export function parseResponse(bytes: Uint8Array, complete: boolean): UpgradeAnswer | undefined {
  const text = new TextDecoder().decode(bytes);
  const headerEnd = text.indexOf("\r\n\r\n");
  if (headerEnd < 0) return undefined;
  const [statusLine = "", ...headerLines] = text.slice(0, headerEnd).split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) return complete ? undefined : undefined;
  const status = Number(match[1]);
  if (status === 101) return { kind: "response", status, statusText: match[2] ?? "", body: "" };
  const lengthLine = headerLines.find((line) => /^content-length:/i.test(line));
  const length = lengthLine ? Number(lengthLine.split(":")[1]) : undefined;
  const body = text.slice(headerEnd + 4);
  const bodyBytes = new TextEncoder().encode(body).byteLength;
  if (!complete && (length === undefined || bodyBytes < length)) return undefined;
  const oneLine = body.replace(/\s+/g, " ").trim().slice(0, MAX_BODY_CHARS);
  return { kind: "response", status, statusText: match[2] ?? "", body: oneLine };
}

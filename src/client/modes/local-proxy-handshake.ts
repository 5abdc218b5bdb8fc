// What a local program says to `socket2web socks` before its bytes flow: SOCKS5 (RFC 1928, with
// RFC 1929 user/password), HTTP CONNECT, or a plain `http://` proxy request. Pure: bytes in,
// replies and the chosen target out, so that the listener only moves bytes.

import { timingSafeEqual } from "node:crypto";

/** The user name and password local clients must give (`--proxy-user`). */
export interface LocalCredential {
  readonly username: string;
  readonly password: string;
}

/** How the local client asked: it decides the reply's form. */
export type LocalProtocol = "socks5" | "http-connect" | "http";

export interface LocalRequest {
  readonly protocol: LocalProtocol;
  /** Without brackets: `::1`, `127.0.0.1`, `db.internal` (names go to the server to resolve). */
  readonly host: string;
  readonly port: number;
  /** Bytes for the target that came with the request (a plain HTTP request, rewritten). */
  readonly early: Uint8Array;
}

export type HandshakeStep =
  /** Send `reply` (if any) and wait for more bytes. */
  | { readonly kind: "more"; readonly reply?: Uint8Array }
  /** `reply`: answers owed before the request's own (a SOCKS method choice pipelined with it). */
  | { readonly kind: "request"; readonly request: LocalRequest; readonly reply?: Uint8Array }
  /** Send `reply`, then close: `why` is for the log line. */
  | { readonly kind: "fail"; readonly reply: Uint8Array; readonly why: string };

/** An HTTP request head (or a SOCKS message) longer than this is refused. */
export const MAX_HANDSHAKE_BYTES = 16 * 1024;

const SOCKS_VERSION = 0x05;
const AUTH_VERSION = 0x01;
const METHOD_NONE = 0x00;
const METHOD_PASSWORD = 0x02;
const NO_ACCEPTABLE_METHOD = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_NAME = 0x03;
const ATYP_IPV6 = 0x04;

/** RFC 1928 reply codes. */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  refused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;
export type SocksReply = (typeof SocksReply)[keyof typeof SocksReply];

/** A SOCKS5 reply; the bound address is not meaningful through a proxy, so it is 0.0.0.0:0. */
export function socksReply(code: SocksReply): Uint8Array {
  return Uint8Array.of(SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0);
}

const HTTP_TEXT: Readonly<Record<number, string>> = {
  200: "Connection established",
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
  407: "Proxy Authentication Required",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** An HTTP answer from the proxy itself, with `body` as plain text, after which it closes. */
export function httpReply(status: number, body: string, extraHeaders: string[] = []): Uint8Array {
  const content = new TextEncoder().encode(body ? `${body}\n` : "");
  const head = [
    `HTTP/1.1 ${status} ${HTTP_TEXT[status] ?? "Error"}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${content.byteLength}`,
    "Connection: close",
    ...extraHeaders,
  ];
  const bytes = new TextEncoder().encode(`${head.join("\r\n")}\r\n\r\n`);
  const out = new Uint8Array(bytes.byteLength + content.byteLength);
  out.set(bytes);
  out.set(content, bytes.byteLength);
  return out;
}

/** The success answer of a CONNECT; a plain HTTP request gets none (the target answers it). */
export function successReply(protocol: LocalProtocol): Uint8Array {
  if (protocol === "socks5") return socksReply(SocksReply.succeeded);
  if (protocol === "http-connect")
    return new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n");
  return new Uint8Array(0);
}

type State = "start" | "socks-methods" | "socks-auth" | "socks-request" | "http" | "done";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/** Reads one local client's handshake, whichever protocol its first byte says it speaks. */
export class LocalHandshake {
  private state: State = "start";
  private buffer = new Uint8Array(0);

  constructor(private readonly credential: LocalCredential | undefined) {}

  /** The protocol, once the first byte has told it. */
  get protocol(): LocalProtocol | undefined {
    if (this.state === "start") return undefined;
    return this.state === "http" ? "http-connect" : "socks5";
  }

  feed(chunk: Uint8Array): HandshakeStep {
    if (this.state === "done") return this.fail(new Uint8Array(0), "bytes after the handshake");
    const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.byteLength);
    this.buffer = joined;
    let reply: Uint8Array[] = [];
    // One chunk may hold several SOCKS messages (clients that pipeline): answer each in turn.
    for (;;) {
      const step = this.step();
      if (step === undefined) break;
      if (step.kind !== "more") {
        if (reply.length === 0) return step;
        // Replies owed before a request or failure go out first.
        if (step.kind === "fail") return { ...step, reply: concat([...reply, step.reply]) };
        return { ...step, reply: concat(reply) };
      }
      if (step.reply) reply = [...reply, step.reply];
    }
    if (this.buffer.byteLength > MAX_HANDSHAKE_BYTES) {
      const tooLong = `handshake longer than ${MAX_HANDSHAKE_BYTES} bytes`;
      return this.state === "http"
        ? this.fail(httpReply(431, tooLong), tooLong)
        : this.fail(new Uint8Array(0), tooLong);
    }
    return reply.length === 0 ? { kind: "more" } : { kind: "more", reply: concat(reply) };
  }

  /** One message if it is complete: undefined when more bytes are needed. */
  private step(): HandshakeStep | undefined {
    const bytes = this.buffer;
    if (bytes.byteLength === 0) return undefined;
    switch (this.state) {
      case "start": {
        const first = bytes[0] as number;
        if (first === SOCKS_VERSION) this.state = "socks-methods";
        else if (first >= 0x41 && first <= 0x5a) this.state = "http";
        else {
          this.state = "done";
          const what = first === 0x04 ? "SOCKS4 (use SOCKS5)" : `first byte 0x${hex(first)}`;
          return this.fail(new Uint8Array(0), `not SOCKS5 or HTTP: ${what}`);
        }
        return this.step();
      }
      case "socks-methods":
        return this.socksMethods(bytes);
      case "socks-auth":
        return this.socksAuth(bytes);
      case "socks-request":
        return this.socksRequest(bytes);
      case "http":
        return this.http(bytes);
      default:
        return undefined;
    }
  }

  private consume(length: number): void {
    this.buffer = this.buffer.subarray(length);
  }

  private fail(reply: Uint8Array, why: string): HandshakeStep {
    this.state = "done";
    return { kind: "fail", reply, why };
  }

  private socksMethods(bytes: Uint8Array): HandshakeStep | undefined {
    if (bytes.byteLength < 2) return undefined;
    const count = bytes[1] as number;
    if (bytes.byteLength < 2 + count) return undefined;
    const methods = bytes.subarray(2, 2 + count);
    this.consume(2 + count);
    const wanted = this.credential ? METHOD_PASSWORD : METHOD_NONE;
    if (!methods.includes(wanted)) {
      const why = this.credential
        ? "the client offered no user/password authentication (--proxy-user requires it)"
        : "the client offered no method without authentication";
      return this.fail(Uint8Array.of(SOCKS_VERSION, NO_ACCEPTABLE_METHOD), why);
    }
    this.state = this.credential ? "socks-auth" : "socks-request";
    return { kind: "more", reply: Uint8Array.of(SOCKS_VERSION, wanted) };
  }

  private socksAuth(bytes: Uint8Array): HandshakeStep | undefined {
    if (bytes.byteLength < 2) return undefined;
    const userLength = bytes[1] as number;
    if (bytes.byteLength < 3 + userLength) return undefined;
    const passwordLength = bytes[2 + userLength] as number;
    const end = 3 + userLength + passwordLength;
    if (bytes.byteLength < end) return undefined;
    const decoder = new TextDecoder();
    const username = decoder.decode(bytes.subarray(2, 2 + userLength));
    const password = decoder.decode(bytes.subarray(3 + userLength, end));
    this.consume(end);
    const expected = this.credential as LocalCredential;
    const ok =
      bytes[0] === AUTH_VERSION &&
      sameSecret(username, expected.username) &&
      sameSecret(password, expected.password);
    if (!ok) return this.fail(Uint8Array.of(AUTH_VERSION, 0x01), "wrong user name or password");
    this.state = "socks-request";
    return { kind: "more", reply: Uint8Array.of(AUTH_VERSION, 0x00) };
  }

  private socksRequest(bytes: Uint8Array): HandshakeStep | undefined {
    if (bytes.byteLength < 5) return undefined;
    const [version, command, , type] = bytes as unknown as [number, number, number, number];
    let hostEnd: number;
    if (type === ATYP_IPV4) hostEnd = 4 + 4;
    else if (type === ATYP_IPV6) hostEnd = 4 + 16;
    else if (type === ATYP_NAME) hostEnd = 5 + (bytes[4] as number);
    else {
      return this.fail(
        socksReply(SocksReply.addressTypeNotSupported),
        `address type 0x${hex(type)}`,
      );
    }
    if (bytes.byteLength < hostEnd + 2) return undefined;
    if (version !== SOCKS_VERSION)
      return this.fail(socksReply(SocksReply.generalFailure), `request version ${version}`);
    if (command !== CMD_CONNECT) {
      const name = command === 0x02 ? "BIND" : command === 0x03 ? "UDP ASSOCIATE" : "unknown";
      return this.fail(
        socksReply(SocksReply.commandNotSupported),
        `SOCKS command 0x${hex(command)} (${name}) is not supported, only CONNECT`,
      );
    }
    const host =
      type === ATYP_IPV4
        ? Array.from(bytes.subarray(4, 8)).join(".")
        : type === ATYP_IPV6
          ? ipv6Text(bytes.subarray(4, 20))
          : new TextDecoder().decode(bytes.subarray(5, hostEnd));
    const port = ((bytes[hostEnd] as number) << 8) | (bytes[hostEnd + 1] as number);
    if (host === "" || port === 0)
      return this.fail(socksReply(SocksReply.hostUnreachable), "empty host or port 0");
    const early = this.buffer.slice(hostEnd + 2);
    this.state = "done";
    this.buffer = new Uint8Array(0);
    return { kind: "request", request: { protocol: "socks5", host, port, early } };
  }

  private http(bytes: Uint8Array): HandshakeStep | undefined {
    const text = new TextDecoder("latin1").decode(bytes);
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) return undefined;
    const [requestLine = "", ...headerLines] = text.slice(0, headEnd).split("\r\n");
    const rest = bytes.slice(headEnd + 4);
    const match = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(requestLine);
    if (!match) return this.fail(httpReply(400, "not an HTTP request line"), "bad request line");
    const [, method, uri, version] = match as unknown as [string, string, string, string];
    if (this.credential && !this.httpAuthorized(headerLines)) {
      return this.fail(
        httpReply(407, "proxy credentials required", [
          'Proxy-Authenticate: Basic realm="socket2web"',
        ]),
        "missing or wrong Proxy-Authorization",
      );
    }
    this.state = "done";
    this.buffer = new Uint8Array(0);
    if (method === "CONNECT") {
      const target = authority(uri, undefined);
      if (!target)
        return this.fail(httpReply(400, `CONNECT expects host:port, got ${uri}`), "bad CONNECT");
      return { kind: "request", request: { protocol: "http-connect", ...target, early: rest } };
    }
    // A plain proxy request names its target in an absolute URL; the target gets origin form.
    const url = /^http:\/\/([^/?#]+)([^#]*)/i.exec(uri);
    const target = url ? authority(url[1] as string, 80) : undefined;
    if (!url || !target) {
      const why = /^https:/i.test(uri)
        ? "an https:// URL needs CONNECT"
        : "a proxy request needs an absolute http:// URL";
      return this.fail(httpReply(400, why), why);
    }
    // The connection is one target: ask the target to close after this response, so that a
    // client never sends its next request (maybe for another host) down this one.
    const headers = headerLines.filter(
      (line) => !/^(proxy-connection|connection|proxy-authorization|keep-alive):/i.test(line),
    );
    const path = (url[2] as string) || "/";
    const head = [`${method} ${path.startsWith("/") ? path : `/${path}`} ${version}`, ...headers];
    const early = concat([
      new TextEncoder().encode(`${head.join("\r\n")}\r\nConnection: close\r\n\r\n`),
      rest,
    ]);
    return { kind: "request", request: { protocol: "http", ...target, early } };
  }

  private httpAuthorized(headerLines: string[]): boolean {
    const line = headerLines.find((header) => /^proxy-authorization:/i.test(header));
    const match = /^proxy-authorization:\s*basic\s+(\S+)\s*$/i.exec(line ?? "");
    if (!match) return false;
    const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const expected = this.credential as LocalCredential;
    return (
      colon >= 0 &&
      sameSecret(decoded.slice(0, colon), expected.username) &&
      sameSecret(decoded.slice(colon + 1), expected.password)
    );
  }
}

/** `host:port` or `[v6]:port`; `defaultPort` when the port may be left out. */
function authority(
  text: string,
  defaultPort: number | undefined,
): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]@/\s]+))(?::([0-9]{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const host = (match[1] ?? match[2]) as string;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  // The compressed form: the server validates it as any IPv6 literal.
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

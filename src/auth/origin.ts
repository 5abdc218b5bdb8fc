import { isIP } from "node:net";
import { normaliseHostName } from "../net/host-name.ts";

export class OriginPatternError extends Error {
  override readonly name = "OriginPatternError";
  constructor(
    readonly pattern: string,
    problem: string,
  ) {
    super(`invalid origin "${pattern}": ${problem}`);
  }
}

export interface OriginOptions {
  /** `https://app.example.com`, `http://localhost:3000` or `https://*.example.com`. */
  readonly allow: readonly string[];
  /** Refuse upgrades without an Origin header (browsers always send one). */
  readonly require: boolean;
  /**
   * Also allow the origin the request was sent to (the console page's own, under --console), when
   * its host is an address or `localhost`: only this server can have served a page there. A host
   * name is not enough (DNS rebinding hands an attacker's page the server's name), so a console
   * reached by name needs that origin in `allow`.
   */
  readonly sameOrigin?: boolean;
}

export type OriginDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

/** `requestUrl` (Bun's `request.url`: scheme, Host header, path) is needed for `sameOrigin`. */
export type OriginCheck = (
  origin: string | null | undefined,
  requestUrl?: string,
) => OriginDecision;

interface WildcardOrigin {
  readonly protocol: string;
  /** With its leading dot: `.example.com`. */
  readonly suffix: string;
  readonly port: string;
}

/** Validates the patterns now, so a bad one is a start-up error. */
export function createOriginCheck(options: OriginOptions): OriginCheck {
  const exact = new Set<string>();
  const wildcards: WildcardOrigin[] = [];
  for (const pattern of options.allow) {
    const parsed = parsePattern(pattern);
    if (typeof parsed === "string") exact.add(parsed);
    else wildcards.push(parsed);
  }
  const restricted = options.allow.length > 0;

  return (origin, requestUrl) => {
    if (origin === null || origin === undefined) {
      return options.require ? deny("an Origin header is required") : { allowed: true };
    }
    // An empty header is no origin at all: it must not satisfy --require-origin.
    if (origin.trim() === "") {
      return options.require || restricted ? deny("the Origin header is empty") : { allowed: true };
    }
    if (!restricted) return { allowed: true };
    const url = parseOrigin(origin);
    if (url === null) return deny("the Origin header is not an http(s) origin");
    if (exact.has(url.origin)) return { allowed: true };
    if (options.sameOrigin && isOwnAddressOrigin(url, requestUrl)) return { allowed: true };
    const matchesWildcard = wildcards.some(
      (w) =>
        w.protocol === url.protocol &&
        w.port === url.port &&
        url.hostname.length > w.suffix.length &&
        url.hostname.endsWith(w.suffix),
    );
    return matchesWildcard ? { allowed: true } : deny(`origin ${url.origin} is not allowed`);
  };
}

/** The request's own origin, named by an IP address or `localhost` (see `sameOrigin`). */
function isOwnAddressOrigin(origin: URL, requestUrl: string | undefined): boolean {
  if (requestUrl === undefined) return false;
  let own: URL;
  try {
    own = new URL(requestUrl);
  } catch {
    return false;
  }
  if (own.origin !== origin.origin) return false;
  // The URL parser has put any IPv4 form in dotted decimal and IPv6 in brackets.
  const host = origin.hostname.replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || isIP(host) !== 0;
}

function deny(reason: string): OriginDecision {
  return { allowed: false, reason };
}

function parsePattern(pattern: string): string | WildcardOrigin {
  const fail = (problem: string): never => {
    throw new OriginPatternError(pattern, problem);
  };
  if (pattern === "null") {
    fail("the opaque origin null is sent by sandboxed pages of any site, so it cannot be allowed");
  }
  const match = /^(https?):\/\/(\*\.)?([^/?#@\s]+)$/i.exec(pattern);
  if (match === null) {
    fail(
      'expected SCHEME://HOST[:PORT] with scheme http or https, no path, e.g. "https://app.example.com"',
    );
  }
  const [, scheme = "", star, hostPort = ""] = match ?? [];
  const url = parseOrigin(`${scheme}://${hostPort}`);
  if (url === null) return fail(`"${hostPort}" is not a valid host`);
  if (hostPort.includes("*")) fail('a wildcard is only allowed as a leading "*." label');
  if (star === undefined) return url.origin;
  if (normaliseHostName(url.hostname) === null) {
    fail('"*." must be followed by a host name, not an address');
  }
  return { protocol: url.protocol, suffix: `.${url.hostname}`, port: url.port };
}

/** An http(s) origin and nothing else (no path, query, fragment or credentials), or null. */
function parseOrigin(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const bare =
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.username === "" &&
    url.password === "" &&
    url.search === "" &&
    url.hash === "" &&
    url.pathname === "/" &&
    !/^[a-z]+:\/\/[^/]*\/|[?#]/i.test(text);
  return bare ? url : null;
}

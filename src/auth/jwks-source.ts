import type { CryptoKey } from "jose";
import { readSmallFile, SmallFileError } from "../process/small-file.ts";
import { JwksError, type KeySet, parseKeySet } from "./jwks.ts";

/** Where `--ticket-jwks` keys come from: a file read once, or a URL fetched again and again. */
export interface JwksSourceOptions {
  /** A file path, or an http(s) URL. */
  readonly location: string;
  /** How errors name the setting: `--ticket-jwks`, `SOCKET2WEB_TICKET_JWKS`, … */
  readonly label: string;
  /** A URL is fetched again this often. */
  readonly refreshMs?: number;
  /** An unknown `kid` fetches the URL again, at most this often (a flood of made-up kids cannot). */
  readonly minRefreshMs?: number;
  /** One fetch may take this long. */
  readonly timeoutMs?: number;
  /** For tests. */
  readonly now?: () => number;
}

export interface JwksSource {
  /** The key for a ticket's `kid` and `alg`, or why there is none. */
  key(kid: string, alg: string): Promise<CryptoKey | Uint8Array | string>;
  /** Where refresh failures and changes are told (the server's log, once it has one). */
  report(sink: (level: "info" | "warn", text: string) => void): void;
  /** Fetches the URL now (what the schedule and an unknown kid do); false if it failed. */
  refresh(): Promise<boolean>;
  /** Stops the schedule. */
  close(): void;
}

export const DEFAULT_JWKS_REFRESH_MS = 5 * 60_000;
export const DEFAULT_JWKS_MIN_REFRESH_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** A key set is a few kilobytes; more is not one. */
const MAX_JWKS_BYTES = 1 << 20;

export class JwksLoadError extends Error {
  override readonly name = "JwksLoadError";
}

export const isJwksUrl = (location: string): boolean => /^https?:\/\//i.test(location);

/**
 * Loads the key set once (a failure is a start-up error), then, for a URL, keeps it fresh:
 * on a schedule and on an unknown `kid`, rate-limited; a failed refresh keeps the last good set.
 */
export async function createJwksSource(options: JwksSourceOptions): Promise<JwksSource> {
  const { location, label } = options;
  const now = options.now ?? Date.now;
  const minRefreshMs = options.minRefreshMs ?? DEFAULT_JWKS_MIN_REFRESH_MS;
  const remote = isJwksUrl(location);
  const load = remote
    ? () => fetchText(location, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    : async () => readSmallFile(location, label);
  const where = remote ? `${label} ${location}` : `${label} file ${location}`;

  let keys: KeySet;
  try {
    keys = parseKeySet(await load());
  } catch (error) {
    if (error instanceof SmallFileError) throw new JwksLoadError(error.message);
    throw new JwksLoadError(`${where} ${describe(error)}`);
  }
  let sink: (level: "info" | "warn", text: string) => void = () => {};
  // The start-up load counts for nothing: the first unknown kid may fetch at once.
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<boolean> | undefined;

  const refresh = (): Promise<boolean> => {
    inflight ??= (async () => {
      lastAttempt = now();
      try {
        const next = parseKeySet(await load());
        if (next.size !== keys.size)
          sink("info", `${where} now holds ${next.size} keys (was ${keys.size})`);
        keys = next;
        return true;
      } catch (error) {
        sink(
          "warn",
          `${where} could not be refreshed (${describe(error)}): keeping the last good key set`,
        );
        return false;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  const timer = remote
    ? setInterval(() => void refresh(), options.refreshMs ?? DEFAULT_JWKS_REFRESH_MS)
    : undefined;
  // The schedule must not keep a stopping process alive.
  timer?.unref();

  return {
    async key(kid, alg) {
      if (remote && !keys.has(kid)) {
        if (inflight) await inflight;
        else if (now() - lastAttempt >= minRefreshMs) await refresh();
      }
      return keys.key(kid, alg);
    },
    report(next) {
      sink = next;
    },
    refresh,
    close() {
      if (timer) clearInterval(timer);
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof JwksError || error instanceof JwksLoadError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      // A key set that moves is a configuration to fix, not a redirect to follow.
      redirect: "error",
      headers: { accept: "application/json" },
    });
  } catch (error) {
    throw new JwksLoadError(`could not be fetched (${describe(error)})`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new JwksLoadError(`answered HTTP ${response.status}`);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_JWKS_BYTES) {
      await reader.cancel();
      throw new JwksLoadError(`is larger than ${MAX_JWKS_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

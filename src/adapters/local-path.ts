import { realpathSync } from "node:fs";
import { realpath } from "node:fs/promises";
import { resolve, sep } from "node:path";

/** The local paths a `path` adapter may open: each entry a directory (anything below it) or a file. */
export interface PathAllowList {
  /** The prefixes as resolved at start-up, for messages and the greeting. */
  readonly prefixes: readonly string[];
  /**
   * Makes `path` absolute, resolves `..` and symbolic links, and gives the resolved path if it
   * lies inside a prefix. Nothing is opened here.
   */
  check(path: string): Promise<PathCheck>;
}

/** Like a network target's resolution: `reason` is for the log, and may name the prefixes. */
export type PathCheck =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly error: "forbidden" | "connect_failed"; readonly reason: string };

/** Whether `path` is `prefix` itself or lies below it; both are absolute and resolved. */
function within(prefix: string, path: string): boolean {
  if (prefix === sep) return path.startsWith(sep);
  return path === prefix || path.startsWith(prefix + sep);
}

/**
 * A prefix resolved the same way as the paths checked against it (so `/var/run/app` also matches
 * when `/var/run` is a link to `/run`); one that does not exist yet is kept as written, absolute.
 */
function resolvePrefix(prefix: string): string {
  const absolute = resolve(prefix);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}

export function createPathAllowList(prefixes: readonly string[]): PathAllowList {
  const real = [...new Set(prefixes.map(resolvePrefix))];
  // As written (absolute) too: a client may name a path through the link a prefix was given by.
  const asWritten = [...new Set([...real, ...prefixes.map((prefix) => resolve(prefix))])];
  const insideOf = (list: readonly string[], path: string) =>
    list.some((prefix) => within(prefix, path));
  const refuse = (path: string, why: string): PathCheck => ({
    ok: false,
    error: "forbidden",
    reason: `${path} ${why}`,
  });
  return {
    prefixes: real,
    async check(path) {
      // `..` is collapsed first so that a path which names somewhere outside every prefix is
      // refused without touching the file system (nothing about outside files leaks).
      const absolute = resolve(path);
      if (!insideOf(asWritten, absolute)) {
        return refuse(path, "is outside every --allow-unix prefix");
      }
      let resolved: string;
      try {
        resolved = await realpath(absolute);
      } catch (error) {
        // A path that does not resolve (missing, dangling link, loop) is never connected: a
        // dangling link could later be made to point anywhere.
        const code = (error as { code?: string }).code ?? "unresolvable";
        return { ok: false, error: "connect_failed", reason: `${code} ${path}` };
      }
      if (!insideOf(real, resolved)) {
        return refuse(path, `resolves to ${resolved}, outside every --allow-unix prefix`);
      }
      return { ok: true, path: resolved };
    },
  };
}

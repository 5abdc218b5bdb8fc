import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FixedTarget } from "../../net/target-text.ts";
import { type PathWatch, watchPath } from "../../process/watch-path.ts";
import { parseTokenFileText, repeatedToken } from "./token-file.ts";

/** Larger than any token file written by hand or by a script for thousands of hosts. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Files read from one directory; past it the rest are reported, not read. */
const MAX_FILES = 1000;

export class TokenSourceError extends Error {
  override readonly name = "TokenSourceError";
}

/** One reading of the token file or directory. */
export interface TokenSnapshot {
  readonly targets: ReadonlyMap<string, FixedTarget>;
  readonly files: number;
  readonly isDirectory: boolean;
  /** Skipped lines and files, each a sentence naming FILE:LINE or the file. */
  readonly problems: readonly string[];
}

/** `--token-file`: the targets behind websockify-style `?token=` upgrades, re-read on change. */
export interface TokenSource {
  readonly path: string;
  lookup(token: string): FixedTarget | undefined;
  readonly size: number;
  /** Reads the path again; on failure the previous targets stay and the error is thrown. */
  reload(): Promise<TokenSnapshot>;
  /** Re-reads after the file or directory changes; `report` hears each outcome. */
  watch(report: (outcome: TokenSnapshot | Error) => void): void;
  close(): void;
}

async function readSnapshot(path: string): Promise<TokenSnapshot> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw new TokenSourceError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  const problems: string[] = [];
  let files: string[];
  if (isDirectory) {
    let names: string[];
    try {
      names = (await readdir(path)).filter((name) => !name.startsWith(".")).sort();
    } catch (error) {
      throw new TokenSourceError(
        `cannot list ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
    if (names.length > MAX_FILES) {
      problems.push(`${path}: holds ${names.length} files; read the first ${MAX_FILES}`);
      names = names.slice(0, MAX_FILES);
    }
    files = names.map((name) => join(path, name));
  } else {
    files = [path];
  }
  const targets = new Map<string, FixedTarget>();
  /** `FILE:LINE` each token's target came from, to name both lines when a later file repeats it. */
  const origins = new Map<string, string>();
  let read = 0;
  for (const file of files) {
    let text: string;
    try {
      const info = await stat(file);
      // Subdirectories, sockets and the like hold no tokens.
      if (!info.isFile()) continue;
      if (info.size > MAX_FILE_BYTES) {
        problems.push(`${file}: larger than ${MAX_FILE_BYTES} bytes; skipped`);
        continue;
      }
      text = await readFile(file, "utf8");
    } catch (error) {
      // The file named on the command line must be readable; one file of a directory may vanish.
      if (!isDirectory) {
        throw new TokenSourceError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
        );
      }
      problems.push(
        `${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error}); skipped`,
      );
      continue;
    }
    read++;
    const parsed = parseTokenFileText(text, file);
    problems.push(...parsed.problems);
    for (const [token, target] of parsed.targets) {
      const where = `${file}:${parsed.lines.get(token)}`;
      const earlier = origins.get(token);
      if (earlier !== undefined) problems.push(repeatedToken(earlier, where));
      targets.set(token, target);
      origins.set(token, where);
    }
  }
  return { targets, files: read, isDirectory, problems };
}

/** Reads `path` (a token file, or a directory of them); an unreadable path throws TokenSourceError. */
export async function loadTokenSource(path: string): Promise<{
  source: TokenSource;
  snapshot: TokenSnapshot;
}> {
  let current = await readSnapshot(path);
  let watcher: PathWatch | undefined;
  const source: TokenSource = {
    path,
    lookup: (token) => current.targets.get(token),
    get size() {
      return current.targets.size;
    },
    async reload() {
      current = await readSnapshot(path);
      return current;
    },
    watch(report) {
      watcher ??= watchPath(
        path,
        current.isDirectory,
        () => source.reload().then(report, (error: unknown) => report(error as Error)),
        report,
      );
    },
    close() {
      watcher?.close();
      watcher = undefined;
    },
  };
  return { source, snapshot: current };
}

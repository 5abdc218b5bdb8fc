import { readFile, stat } from "node:fs/promises";
import { type PathWatch, watchPath } from "../process/watch-path.ts";
import {
  AccessFileError,
  type AccessVocabulary,
  MAX_ACCESS_FILE_BYTES,
  parseAccessFile,
} from "./access-file.ts";
import type { AccessRules } from "./access-rules.ts";

/** `--access FILE`: its rules, re-read on change and on demand (SIGHUP). */
export interface AccessSource {
  readonly path: string;
  readonly rules: AccessRules;
  /** Reads the file again; on failure the previous rules stay and the AccessFileError is thrown. */
  reload(): Promise<AccessRules>;
  /** Re-reads after the file changes; `report` hears each outcome. */
  watch(report: (outcome: AccessRules | Error) => void): void;
  close(): void;
}

/** Reads and checks the file; every problem is an AccessFileError (`FILE:LINE: …` when it has a line). */
export async function readAccessFile(
  path: string,
  vocabulary: AccessVocabulary,
): Promise<AccessRules> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > MAX_ACCESS_FILE_BYTES) {
      throw new AccessFileError(`${path}: larger than ${MAX_ACCESS_FILE_BYTES} bytes`);
    }
    text = await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof AccessFileError) throw error;
    throw new AccessFileError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  return parseAccessFile(text, path, vocabulary);
}

export async function loadAccessSource(
  path: string,
  vocabulary: AccessVocabulary,
): Promise<AccessSource> {
  let current = await readAccessFile(path, vocabulary);
  let watcher: PathWatch | undefined;
  const source: AccessSource = {
    path,
    get rules() {
      return current;
    },
    async reload() {
      current = await readAccessFile(path, vocabulary);
      return current;
    },
    watch(report) {
      watcher ??= watchPath(
        path,
        false,
        () => source.reload().then(report, (error: unknown) => report(error as Error)),
        report,
      );
    },
    close() {
      watcher?.close();
      watcher = undefined;
    },
  };
  return source;
}

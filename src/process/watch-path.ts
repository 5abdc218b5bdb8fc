import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** Editors and `cp` write a file in several steps: one re-read after the last of them. */
export const CHANGE_DEBOUNCE_MS = 250;

export interface PathWatch {
  close(): void;
}

/**
 * Calls `changed` once after `path` (a file, or with `directory` every file in it) has changed
 * and stayed still for CHANGE_DEBOUNCE_MS; `failed` hears a watcher's error. A file is watched
 * through its directory: one replaced by rename is a new inode, which watching the file itself
 * would miss (and then see nothing more).
 */
export function watchPath(
  path: string,
  directory: boolean,
  changed: () => void,
  failed: (error: Error) => void,
): PathWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const name = directory ? undefined : basename(path);
  const watcher: FSWatcher = watch(directory ? path : dirname(path), (_event, which) => {
    if (name !== undefined && which !== null && which !== name) return;
    clearTimeout(timer);
    timer = setTimeout(changed, CHANGE_DEBOUNCE_MS);
    timer.unref?.();
  });
  watcher.on("error", failed);
  watcher.unref?.();
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

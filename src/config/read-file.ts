import { readSmallFile as read, SmallFileError } from "../process/small-file.ts";
import { UsageError } from "./usage-error.ts";

export { MAX_SETTINGS_FILE_BYTES } from "../process/small-file.ts";

/** A settings, token, secret or key file: see readSmallFile; its problems are usage errors. */
export function readSmallFile(path: string, label: string, maxBytes?: number): string {
  try {
    return read(path, label, maxBytes);
  } catch (error) {
    if (error instanceof SmallFileError) throw new UsageError(error.message);
    throw error;
  }
}

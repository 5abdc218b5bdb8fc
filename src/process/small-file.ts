import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** A file that cannot be read, is not a regular file, or is too large; the message says which. */
export class SmallFileError extends Error {
  override readonly name = "SmallFileError";
}

/** Settings, tokens, secrets, keys and certificates are small; anything bigger is the wrong file. */
export const MAX_SETTINGS_FILE_BYTES = 1024 * 1024;

/**
 * The text of a small regular file, read whole; `label` names its setting in messages. A device (`/dev/zero`), FIFO or directory is
 * refused before a byte is read (O_NONBLOCK keeps a FIFO from blocking the open), and a file
 * over `maxBytes` is refused without being read into memory.
 */
export function readSmallFile(
  path: string,
  label: string,
  maxBytes = MAX_SETTINGS_FILE_BYTES,
): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new SmallFileError(`cannot read ${label} file ${path}: ${codeOf(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SmallFileError(`${label} file ${path} is not a regular file`);
    if (stat.size > maxBytes) {
      throw new SmallFileError(
        `${label} file ${path} is too large (${stat.size} bytes; at most ${maxBytes})`,
      );
    }
    // Read one byte past the limit: a file that grew since fstat is caught too.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > maxBytes) {
        throw new SmallFileError(`${label} file ${path} is too large (at most ${maxBytes} bytes)`);
      }
    }
    return buffer.subarray(0, length).toString("utf8");
  } catch (error) {
    if (error instanceof SmallFileError) throw error;
    throw new SmallFileError(`cannot read ${label} file ${path}: ${codeOf(error)}`);
  } finally {
    closeSync(fd);
  }
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? "unreadable";
}

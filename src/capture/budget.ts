import { readdirSync, statfsSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * `--capture-max-total`: the most bytes the directory's capture files may hold, as a byte count or
 * as a percentage of the space captures could take when the server starts (free space plus the
 * `.pcapng` files already there).
 */
export type CaptureTotal = number | `${number}%`;

/** A tenth of the free space: room for hours of evidence, and never the whole disk. */
export const DEFAULT_CAPTURE_MAX_TOTAL: CaptureTotal = "10%";

/** Bytes a process may still write into capture files; files take leases of it as they grow. */
export interface DiskBudget {
  /** The bytes this process may write in all. */
  readonly limit: number;
  /** Bytes held by leases (files open) or written (files closed). */
  readonly used: number;
  /** A take failed: from then on the budget is spent, whatever leases give back. */
  readonly spent: boolean;
  /** Takes `bytes` if that many are left and the budget is not spent; the first refusal spends it. */
  take(bytes: number): boolean;
  /** Returns what a lease did not use. */
  give(bytes: number): void;
}

/**
 * Once spent, a budget stays spent: what files give back when they close would otherwise let new
 * sessions start files that are cut at once, a trickle of empty captures instead of a clear stop.
 * `spent` is called once, when that happens.
 */
export function createDiskBudget(limit: number, onSpent: () => void = () => {}): DiskBudget {
  let used = 0;
  let spent = false;
  return {
    limit,
    get used() {
      return used;
    },
    get spent() {
      return spent;
    },
    take(bytes) {
      if (spent) return false;
      if (used + bytes > limit) {
        spent = true;
        onSpent();
        return false;
      }
      used += bytes;
      return true;
    },
    give(bytes) {
      used = Math.max(0, used - bytes);
    },
  };
}

export interface ResolvedTotal {
  /** This process's bytes: the total, less the files already there, shared between workers. */
  readonly limit: number;
  /** The whole directory's limit in bytes. */
  readonly total: number;
  /** Bytes in `.pcapng` files already in the directory. */
  readonly existing: number;
}

/**
 * This process's share of `total` for `dir`: what the capture files already there use counts
 * against it, and each of `workers` processes writing into the directory gets an equal part.
 */
export function resolveCaptureTotal(
  total: CaptureTotal,
  dir: string,
  workers: number,
): ResolvedTotal {
  const existing = captureFilesSize(dir);
  const bytes =
    typeof total === "number"
      ? total
      : Math.floor(((freeBytes(dir) + existing) * Number.parseFloat(total)) / 100);
  return {
    limit: Math.floor(Math.max(0, bytes - existing) / Math.max(1, workers)),
    total: bytes,
    existing,
  };
}

/** Bytes this process may create on the file system of `dir` (statfs: blocks free to users). */
function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** The `.pcapng` files directly in `dir`: this server's earlier captures (and anyone's). */
function captureFilesSize(dir: string): number {
  let size = 0;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".pcapng")) continue;
    try {
      const info = statSync(join(dir, name));
      if (info.isFile()) size += info.size;
    } catch {
      // Removed between listing and reading: it takes no room.
    }
  }
  return size;
}

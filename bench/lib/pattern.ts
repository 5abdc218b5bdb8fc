// The byte stream every workload sends: a deterministic pseudo-random pool, repeated.
// Client and target processes build the same pool from the same seed, so the target
// can produce (and the client verify) any length without storing it.

/** Pool length: not a multiple of any chunk size, so chunk boundaries drift through it. */
export const POOL_BYTES = 1024 * 1024 + 4099;
/** Largest slice `patternSlice` hands out without copying. */
export const MAX_SLICE = 1024 * 1024;

const SEED = 0x5eed_2b0b;

function buildPool(): Uint8Array {
  // The pool followed by its own first MAX_SLICE bytes: any slice is one subarray.
  const pool = new Uint8Array(POOL_BYTES + MAX_SLICE);
  let x = SEED;
  for (let i = 0; i < POOL_BYTES; i++) {
    // xorshift32: cheap, deterministic, good enough to defeat any compression.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pool[i] = x & 0xff;
  }
  pool.copyWithin(POOL_BYTES, 0, MAX_SLICE);
  return pool;
}

const pool = buildPool();

/** Bytes [offset, offset + length) of the endless pattern stream, without copying. */
export function patternSlice(offset: number, length: number): Uint8Array {
  if (length > MAX_SLICE) throw new RangeError(`slice of ${length} bytes exceeds ${MAX_SLICE}`);
  const start = offset % POOL_BYTES;
  return pool.subarray(start, start + length);
}

const digestCache = new Map<number, string>();

/** SHA-256 (hex) of the first `total` bytes of the pattern stream. */
export function patternDigest(total: number): string {
  const cached = digestCache.get(total);
  if (cached) return cached;
  const hasher = new Bun.CryptoHasher("sha256");
  for (let offset = 0; offset < total; offset += MAX_SLICE) {
    hasher.update(patternSlice(offset, Math.min(MAX_SLICE, total - offset)));
  }
  const digest = hasher.digest("hex");
  digestCache.set(total, digest);
  return digest;
}

/**
 * Longest Bun keeps the socket of a WebSocket the server closed while the client does not answer
 * the close (measured on Bun 1.4.5 with the server's 120 s idleTimeout; `terminate()` after
 * `close()` does not shorten it).
 */
export const CLOSE_LINGER_MS = 16_000;

/** Sockets the server has closed that Bun may still hold: each counts until its linger is over. */
export interface LingerCount {
  add(): void;
  count(): number;
}

export function createLingerCount(
  lingerMs = CLOSE_LINGER_MS,
  now = () => performance.now(),
): LingerCount {
  /** Expiry times, oldest first; at most one per connection closed within the last `lingerMs`. */
  const expiries: number[] = [];
  let head = 0;
  const prune = () => {
    const time = now();
    while (head < expiries.length && (expiries[head] as number) <= time) head++;
    // Compact now and then so the array holds only live entries.
    if (head > 1024 && head * 2 > expiries.length) {
      expiries.splice(0, head);
      head = 0;
    }
  };
  return {
    add() {
      prune();
      expiries.push(now() + lingerMs);
    },
    count() {
      prune();
      return expiries.length - head;
    },
  };
}

/** "1 token", "2 tokens", "0 files": a count and its noun, for log lines. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

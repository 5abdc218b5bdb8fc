import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import { Bandwidth, consumeAll } from "./bandwidth.ts";

function clock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("Bandwidth", () => {
  it("starts empty: the first bytes already ask for the time they take at the rate", () => {
    const time = clock();
    const limit = new Bandwidth({ bytesPerSecond: 1000, now: time.now });
    expect(limit.consume(500)).toBe(500);
    time.advance(500);
    expect(limit.consume(0)).toBe(0);
  });

  it("turns debt into a wait, and time into bytes up to the burst", () => {
    const time = clock();
    const limit = new Bandwidth({ bytesPerSecond: 1_000_000, burstBytes: 100_000, now: time.now });
    expect(limit.consume(250_000)).toBe(250);
    time.advance(250);
    expect(limit.consume(0)).toBe(0);
    // Idle for 10 s: only the burst is kept.
    time.advance(10_000);
    expect(limit.consume(100_000)).toBe(0);
    expect(limit.consume(1_000)).toBe(1);
  });

  it("defaults the burst to a tenth of a second at the rate, at least 16 KiB", () => {
    expect(new Bandwidth({ bytesPerSecond: 100_000_000 }).burstBytes).toBe(10_000_000);
    expect(new Bandwidth({ bytesPerSecond: 1000 }).burstBytes).toBe(16 * 1024);
  });

  it("mints nothing when the clock steps back", () => {
    const time = clock();
    const limit = new Bandwidth({ bytesPerSecond: 1000, now: time.now });
    limit.consume(1000);
    time.advance(-5000);
    expect(limit.consume(0)).toBe(1000);
    time.advance(5500);
    expect(limit.consume(0)).toBe(500);
  });

  it("refuses a rate or burst that is not a positive number, naming it", () => {
    expect(() => new Bandwidth({ bytesPerSecond: 0 })).toThrow(/bytesPerSecond must be above 0/);
    expect(() => new Bandwidth({ bytesPerSecond: Number.NaN })).toThrow(/bytesPerSecond/);
    expect(() => new Bandwidth({ bytesPerSecond: 10, burstBytes: 0 })).toThrow(/burstBytes/);
  });

  it("a reader that reads, then waits what it is told, averages the rate (any chunk sizes)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 200_000_000 }),
        fc.array(fc.integer({ min: 1, max: 1 << 20 }), { minLength: 20, maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 10 }),
        (rate, chunks, lateness) => {
          const time = clock();
          const limit = new Bandwidth({ bytesPerSecond: rate, now: time.now });
          const start = time.now();
          let bytes = 0;
          chunks.forEach((chunk, i) => {
            bytes += chunk;
            const wait = limit.consume(chunk);
            // Timers fire late on a busy machine: the burst keeps what was missed meanwhile.
            if (wait > 0) time.advance(wait + (lateness[i % lateness.length] as number));
          });
          // Whatever is still owed is time the reader would still wait.
          const owed = limit.consume(0);
          const seconds = (time.now() - start + owed) / 1000;
          const burstMs = (limit.burstBytes / rate) * 1000;
          const maxLate = Math.max(...lateness);
          // Never faster than the rate; slower only by what lateness beyond the burst lost, or by
          // what is left unused in the bucket at the end.
          expect(bytes / seconds).toBeLessThanOrEqual(rate * 1.000001);
          if (maxLate <= burstMs) {
            expect(bytes + limit.burstBytes).toBeGreaterThanOrEqual(rate * seconds * 0.999999);
          }
        },
      ),
    );
  });

  it("shared by readers that each resume once their wait is over: each gets a share, none starves", () => {
    const time = clock();
    const limit = new Bandwidth({ bytesPerSecond: 1_000_000, now: time.now });
    // Reader 0 reads 64 KiB at a time; readers 1 and 2 read 4 KiB, like an interactive session.
    const chunk = [64 * 1024, 4096, 4096];
    const resumeAt = [0, 0, 0];
    const got = [0, 0, 0];
    for (let step = 0; step < 10_000 && time.now() < 11_000; step++) {
      const next = resumeAt.indexOf(Math.min(...resumeAt));
      time.advance(Math.max(0, (resumeAt[next] as number) - time.now()));
      const bytes = chunk[next] as number;
      got[next] = (got[next] as number) + bytes;
      resumeAt[next] = time.now() + limit.consume(bytes);
    }
    const total = got.reduce((a, b) => a + b, 0);
    expect(total / 10).toBeGreaterThan(950_000);
    expect(total / 10).toBeLessThan(1_050_000);
    // One chunk per turn each: the small readers get their chunks, not nothing.
    for (const bytes of got) expect(bytes).toBeGreaterThan(40_000);
  });
});

describe("consumeAll", () => {
  it("takes from every limit and waits for the slowest", () => {
    const time = clock();
    const shared = new Bandwidth({ bytesPerSecond: 1000, now: time.now });
    const own = new Bandwidth({ bytesPerSecond: 4000, now: time.now });
    expect(consumeAll([shared, own], 2000)).toBe(2000);
    expect(own.consume(0)).toBe(500);
    expect(consumeAll([], 2000)).toBe(0);
  });
});

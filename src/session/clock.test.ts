import { describe, expect, it } from "bun:test";
import { idleClock, lifetimeClock } from "./clock.ts";

describe("idleClock", () => {
  it("fires once after the quiet period, counted from the last activity", async () => {
    let last = Date.now();
    const fired: number[] = [];
    const started = Date.now();
    const clock = idleClock(
      60,
      () => last,
      () => fired.push(Date.now() - started),
    );
    await Bun.sleep(30);
    last = Date.now();
    // Bounded wait for the event itself.
    for (let i = 0; i < 100 && fired.length === 0; i++) await Bun.sleep(10);
    expect(fired.length).toBe(1);
    expect(fired[0]).toBeGreaterThanOrEqual(85);
    clock.stop();
  });

  it("never fires once stopped, nor when disabled", async () => {
    let fired = 0;
    idleClock(0, Date.now, () => fired++);
    const clock = idleClock(20, Date.now, () => fired++);
    clock.stop();
    const lifetime = lifetimeClock(0.02, () => fired++);
    lifetime.stop();
    await Bun.sleep(60);
    expect(fired).toBe(0);
  });
});

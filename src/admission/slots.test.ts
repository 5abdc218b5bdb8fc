import { describe, expect, it } from "bun:test";
import { localAddressLimits } from "../state/address-limits.ts";
import { Refusal } from "./refusal.ts";
import { createSlots, type Slot } from "./slots.ts";

const taken = (slot: ReturnType<ReturnType<typeof createSlots>["take"]>): Slot => {
  if (slot instanceof Promise || slot instanceof Refusal) throw new Error("expected a slot");
  return slot;
};
const slots = (maxConnections: number, maxPerAddress = 0, rate = 0) =>
  createSlots({
    maxConnections,
    addresses: localAddressLimits({ rate, burst: rate, maxPerAddress }),
  });

describe("slots", () => {
  it("refuses past --max-connections until one is released, and a double release counts once", () => {
    const limits = slots(2);
    const first = taken(limits.take("127.0.0.1"));
    taken(limits.take("127.0.0.2"));
    const third = limits.take("127.0.0.3");
    expect(third).toBeInstanceOf(Refusal);
    expect((third as Refusal).code).toBe("capacity");
    first.release();
    first.release();
    expect(limits.held).toBe(1);
    taken(limits.take("127.0.0.3"));
    expect(limits.take("127.0.0.4")).toBeInstanceOf(Refusal);
  });

  it("counts per address (IPv6 per /64) and gives the address its room back on release", () => {
    const limits = slots(100, 1);
    const a = taken(limits.take("2001:db8::1"));
    const refused = limits.take("2001:db8::2");
    expect((refused as Refusal).code).toBe("per_ip");
    expect(refused).toHaveProperty("closeCode", 1013);
    taken(limits.take("127.0.0.1"));
    a.release();
    taken(limits.take("2001:db8::2"));
  });

  it("an address refused for capacity keeps no per-address slot", () => {
    const limits = slots(1, 1);
    const only = taken(limits.take("127.0.0.1"));
    expect((limits.take("127.0.0.2") as Refusal).code).toBe("capacity");
    only.release();
    taken(limits.take("127.0.0.2"));
  });

  it("upgrades and Wisp streams share an address's rate bucket", () => {
    const limits = slots(10, 0, 2);
    taken(limits.take("127.0.0.1"));
    expect(limits.stream("127.0.0.1")).toBeUndefined();
    expect(limits.stream("127.0.0.1")?.code).toBe("rate_limit");
    expect((limits.take("127.0.0.1") as Refusal).code).toBe("rate_limit");
  });
});

import { describe, expect, it } from "bun:test";
import { Refusal } from "./refusal.ts";
import { createSlots, type Slot } from "./slots.ts";

const taken = (slot: Slot | Refusal): Slot => {
  if (slot instanceof Refusal) throw slot;
  return slot;
};

describe("slots", () => {
  it("refuses past --max-connections until one is released, and a double release counts once", () => {
    const slots = createSlots({ maxConnections: 2, maxConnectionsPerIp: 0 });
    const first = taken(slots.take("127.0.0.1"));
    taken(slots.take("127.0.0.2"));
    const third = slots.take("127.0.0.3");
    expect(third).toBeInstanceOf(Refusal);
    expect((third as Refusal).code).toBe("capacity");
    first.release();
    first.release();
    expect(slots.held).toBe(1);
    taken(slots.take("127.0.0.3"));
    expect(slots.take("127.0.0.4")).toBeInstanceOf(Refusal);
  });

  it("counts per address (IPv6 per /64) and gives the address its room back on release", () => {
    const slots = createSlots({ maxConnections: 100, maxConnectionsPerIp: 1 });
    const a = taken(slots.take("2001:db8::1"));
    const refused = slots.take("2001:db8::2");
    expect((refused as Refusal).code).toBe("per_ip");
    expect(refused).toHaveProperty("closeCode", 1013);
    taken(slots.take("127.0.0.1"));
    a.release();
    taken(slots.take("2001:db8::2"));
  });
});

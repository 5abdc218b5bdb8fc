import { describe, expect, it } from "bun:test";
import { HeldBytes } from "./held-bytes.ts";

describe("HeldBytes", () => {
  it("is over once one open stream holds more than its bound, and back within once it drains", () => {
    const held = new HeldBytes<string>({ stream: 100, connection: 1000 });
    held.set("a", 100, true);
    expect(held.over).toBe(false);
    held.set("a", 101, true);
    expect(held.over).toBe(true);
    held.set("b", 50, true);
    held.set("a", 60, true);
    expect(held.over).toBe(false);
    expect(held.total).toBe(110);
  });

  it("an ended stream counts towards the connection only", () => {
    const held = new HeldBytes<string>({ stream: 100, connection: 250 });
    held.set("a", 200, false);
    expect(held.over).toBe(false);
    held.set("b", 51, false);
    expect(held.total).toBe(251);
    expect(held.over).toBe(true);
    held.set("a", 0, false);
    expect(held.over).toBe(false);
    expect(held.total).toBe(51);
  });

  it("a stream that ends while over its own bound no longer holds the connection back", () => {
    const held = new HeldBytes<string>({ stream: 100, connection: 1000 });
    held.set("a", 500, true);
    expect(held.over).toBe(true);
    held.set("a", 500, false);
    expect(held.over).toBe(false);
    expect(held.total).toBe(500);
  });

  it("never goes below zero", () => {
    const held = new HeldBytes<string>({ stream: 100, connection: 1000 });
    held.set("a", -5, true);
    expect(held.total).toBe(0);
  });
});

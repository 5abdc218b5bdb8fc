import { describe, expect, it } from "bun:test";
import { StreamCredit } from "./credit.ts";

/** A client that replaces its credit with each CONTINUE, as wisp-js and libcurl.js do. */
function client(capacity: number) {
  return { credit: capacity };
}

describe("StreamCredit", () => {
  it("grants again once half the credit may be spent, not only at zero", () => {
    const credit = new StreamCredit(8);
    for (let i = 0; i < 3; i++) credit.received(10);
    credit.settle(0);
    expect(credit.grant()).toBeUndefined();
    credit.received(10);
    credit.settle(0);
    expect(credit.grant()).toBe(4);
    expect(credit.grant()).toBeUndefined();
  });

  it("grants only the room left while the target is behind", () => {
    const credit = new StreamCredit(8);
    for (let i = 0; i < 6; i++) credit.received(10);
    credit.settle(60); // the target took nothing
    expect(credit.held).toBe(6);
    expect(credit.grant()).toBeUndefined(); // 6 held + 2 outstanding: no room
    credit.settle(25); // three packets written, one of them partly
    expect(credit.held).toBe(3);
    expect(credit.grant()).toBe(3);
  });

  it("counts a partly written packet as held", () => {
    const credit = new StreamCredit(4);
    credit.received(100);
    credit.settle(1);
    expect(credit.held).toBe(1);
    credit.settle(0);
    expect(credit.held).toBe(0);
  });

  it("never holds more than its capacity for a client that obeys, whatever is in flight", () => {
    // A client that sends in bursts while CONTINUEs are in flight, and a target that stalls.
    const capacity = 16;
    const server = new StreamCredit(capacity);
    const peer = client(capacity);
    const inFlight: number[] = [];
    let pending = 0;
    for (let round = 0; round < 500; round++) {
      const burst = round % 7;
      for (let i = 0; i < burst && peer.credit > 0; i++, peer.credit--) {
        server.received(1);
        pending++;
      }
      expect(server.held).toBeLessThanOrEqual(capacity);
      // The target takes a packet on some rounds only.
      if (round % 3 === 0 && pending > 0) pending--;
      if (round % 50 < 10) pending = Math.max(0, pending - 5);
      server.settle(pending);
      const grant = server.grant();
      if (grant !== undefined) inFlight.push(grant);
      // CONTINUEs reach the client late, one at a time.
      if (round % 2 === 0 && inFlight.length > 0) peer.credit = inFlight.shift() as number;
    }
    expect(server.overrun).toBe(false);
  });

  it("always gives credit back once the target has drained", () => {
    const capacity = 8;
    const server = new StreamCredit(capacity);
    // The client spends all of its credit, then the target takes everything.
    for (let i = 0; i < capacity; i++) server.received(1);
    server.settle(capacity);
    expect(server.grant()).toBeUndefined();
    server.settle(0);
    expect(server.grant()).toBe(capacity);
  });

  it("marks a client that sends beyond its credit", () => {
    const credit = new StreamCredit(2);
    for (let i = 0; i < 2; i++) credit.received(1);
    credit.settle(2);
    expect(credit.overrun).toBe(false);
    credit.received(1);
    expect(credit.overrun).toBe(true);
  });
});

import { describe, expect, it } from "bun:test";
import { StreamCredit } from "./credit.ts";

/** A window of `n` packets whatever their size. */
function packets(n: number) {
  return { initial: n, most: n, bytes: Number.POSITIVE_INFINITY };
}

/** `n` packets of `size` bytes arrive, and the target takes them all. */
function deliver(credit: StreamCredit, n: number, size: number): void {
  for (let i = 0; i < n; i++) credit.received(size);
  credit.settle(0);
}

/** A client that replaces its credit with each CONTINUE, as wisp-js and libcurl.js do. */
function client(capacity: number) {
  return { credit: capacity };
}

describe("StreamCredit", () => {
  it("a window that shrank after a CONTINUE replaced unspent credit grants again once forgotten", () => {
    // A small first packet makes a long window; 64 KiB packets then shrink it to 16.
    const credit = new StreamCredit({ initial: 32, most: 128, bytes: 1024 * 1024 });
    for (let i = 0; i < 16; i++) credit.received(16);
    credit.settle(0);
    const first = credit.grant() as number;
    expect(first).toBe(112); // 128 - 16 still counted as outstanding (the client may spend them)
    // The client replaced its 16 with 112 and spends them all on 64 KiB packets.
    for (let i = 0; i < first; i++) credit.received(64 * 1024);
    credit.settle(0);
    // 16 phantom packets still count as outstanding, over half the new window of 16: no grant.
    expect(credit.grant()).toBeUndefined();
    credit.forgetUnspent();
    expect(credit.grant()).toBe(16);
    // Had the client been slow rather than stalled, what it still had is no violation.
    for (let i = 0; i < 16 + 16; i++) expect(credit.received(64 * 1024)).toBe(true);
    expect(credit.received(64 * 1024)).toBe(false);
  });

  it("forgets nothing while the target still holds packets", () => {
    const credit = new StreamCredit(packets(8));
    for (let i = 0; i < 3; i++) credit.received(10);
    credit.settle(10); // one packet still held; 5 of the first 8 may still come
    expect(credit.grant()).toBeUndefined();
    credit.forgetUnspent();
    expect(credit.grant()).toBeUndefined();
  });

  it("grants again once half the credit may be spent, not only at zero", () => {
    const credit = new StreamCredit(packets(8));
    deliver(credit, 3, 10);
    expect(credit.grant()).toBeUndefined();
    deliver(credit, 1, 10);
    expect(credit.grant()).toBe(4);
    expect(credit.grant()).toBeUndefined();
  });

  it("grants only the room left while the target is behind", () => {
    const credit = new StreamCredit(packets(8));
    for (let i = 0; i < 6; i++) credit.received(10);
    credit.settle(60); // the target took nothing
    expect(credit.held).toBe(6);
    expect(credit.grant()).toBeUndefined(); // 6 held + 2 outstanding: no room
    credit.settle(25); // three packets written, one of them partly
    expect(credit.held).toBe(3);
    expect(credit.grant()).toBe(3);
  });

  it("counts a partly written packet as held", () => {
    const credit = new StreamCredit(packets(4));
    credit.received(100);
    credit.settle(1);
    expect(credit.held).toBe(1);
    credit.settle(0);
    expect(credit.held).toBe(0);
  });

  it("never holds more than its capacity for a client that obeys, whatever is in flight", () => {
    // A client that sends in bursts while CONTINUEs are in flight, and a target that stalls.
    const capacity = 16;
    const server = new StreamCredit(packets(capacity));
    const peer = client(capacity);
    const inFlight: number[] = [];
    let pending = 0;
    for (let round = 0; round < 500; round++) {
      const burst = round % 7;
      for (let i = 0; i < burst && peer.credit > 0; i++, peer.credit--) {
        expect(server.received(1)).toBe(true);
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
  });

  it("always gives credit back once the target has drained", () => {
    const capacity = 8;
    const server = new StreamCredit(packets(capacity));
    // The client spends all of its credit, then the target takes everything.
    for (let i = 0; i < capacity; i++) server.received(1);
    server.settle(capacity);
    expect(server.grant()).toBeUndefined();
    server.settle(0);
    expect(server.grant()).toBe(capacity);
  });

  it("refuses a packet that no credit allows", () => {
    const credit = new StreamCredit(packets(2));
    for (let i = 0; i < 2; i++) expect(credit.received(1)).toBe(true);
    credit.settle(2);
    expect(credit.received(1)).toBe(false);
    expect(credit.held).toBe(2);
    // Credit granted while packets were in flight: the old credit's packets still count.
    credit.settle(0);
    expect(credit.grant()).toBe(2);
    expect(credit.received(1)).toBe(true);
    expect(credit.received(1)).toBe(true);
    expect(credit.received(1)).toBe(false);
  });

  it("sizes the window in bytes once the packet size is known", () => {
    const credit = new StreamCredit({ initial: 4, most: 128, bytes: 1024 * 1024 });
    expect(credit.window).toBe(4);
    credit.received(64 * 1024);
    expect(credit.window).toBe(16);
    credit.settle(0);
    // Before its first CONTINUE, a stream spends half its initial credit first (3 of 4 left).
    expect(credit.grant()).toBeUndefined();
    credit.received(64 * 1024);
    credit.settle(0);
    // Initial credit still outstanding (2 of 4): more than half a window of 16 is not.
    expect(credit.grant()).toBe(14);
  });

  it("a short stream of small packets gets no CONTINUE: the first waits for half the initial credit", () => {
    const credit = new StreamCredit({ initial: 32, most: 128, bytes: 1024 * 1024 });
    for (let i = 0; i < 15; i++) {
      deliver(credit, 1, 1);
      expect(credit.window).toBe(128);
      expect(credit.grant()).toBeUndefined();
    }
    deliver(credit, 1, 1);
    expect(credit.grant()).toBe(112);
    expect(credit.continued).toBe(true);
    // Then the whole window's rule: the next grant once half of it may be spent.
    deliver(credit, 63, 1);
    expect(credit.grant()).toBeUndefined();
    deliver(credit, 1, 1);
    expect(credit.grant()).toBe(64);
  });

  it("gives small packets the whole window, beyond the initial credit", () => {
    const credit = new StreamCredit({ initial: 4, most: 128, bytes: 1024 * 1024 });
    for (let i = 0; i < 4; i++) credit.received(100);
    credit.settle(0);
    expect(credit.window).toBe(128);
    expect(credit.grant()).toBe(128);
  });

  it("keeps a window of one packet for packets larger than the byte budget", () => {
    const credit = new StreamCredit({ initial: 2, most: 128, bytes: 1024 });
    credit.received(4096);
    credit.received(4096);
    expect(credit.window).toBe(1);
    credit.settle(4096);
    expect(credit.grant()).toBeUndefined();
    credit.settle(0);
    expect(credit.grant()).toBe(1);
  });

  it("never holds more bytes than the budget and one window's first packet for an obeying client", () => {
    const limits = { initial: 8, most: 128, bytes: 256 * 1024 };
    const server = new StreamCredit(limits);
    const size = 32 * 1024;
    let credit = limits.initial;
    let pendingBytes = 0;
    let most = 0;
    const inFlight: number[] = [];
    for (let round = 0; round < 400; round++) {
      for (let i = 0; i < 3 && credit > 0; i++, credit--) {
        expect(server.received(size)).toBe(true);
        pendingBytes += size;
      }
      // Once the initial credit is spent, held bytes stay within the budget.
      if (round > 10) most = Math.max(most, pendingBytes);
      if (round % 2 === 0) pendingBytes = Math.max(0, pendingBytes - size);
      server.settle(pendingBytes);
      const grant = server.grant();
      if (grant !== undefined) inFlight.push(grant);
      if (inFlight.length > 0) credit = inFlight.shift() as number;
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(limits.bytes);
  });
});

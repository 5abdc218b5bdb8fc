import { describe, expect, it } from "bun:test";
import { PauseGate } from "./pause-gate.ts";

type Reason = "authenticating" | "held-bytes" | "outbound";

function socket() {
  const calls: string[] = [];
  return { calls, pause: () => calls.push("pause"), resume: () => calls.push("resume") };
}

describe("PauseGate", () => {
  it("pauses on the first reason and resumes only once the last is lifted", () => {
    const s = socket();
    const gate = new PauseGate<Reason>(s);
    gate.hold("outbound", true);
    gate.hold("held-bytes", true);
    expect(s.calls).toEqual(["pause"]);
    gate.hold("outbound", false);
    expect(gate.paused).toBe(true);
    expect(s.calls).toEqual(["pause"]);
    gate.hold("held-bytes", false);
    expect(s.calls).toEqual(["pause", "resume"]);
    expect(gate.paused).toBe(false);
  });

  it("ignores a reason set twice or lifted when not set", () => {
    const s = socket();
    const gate = new PauseGate<Reason>(s);
    gate.hold("authenticating", false);
    gate.hold("authenticating", true);
    gate.hold("authenticating", true);
    expect(gate.has("authenticating")).toBe(true);
    gate.hold("authenticating", false);
    gate.hold("authenticating", false);
    expect(s.calls).toEqual(["pause", "resume"]);
  });

  it("after clear, nothing is resumed", () => {
    const s = socket();
    const gate = new PauseGate<Reason>(s);
    gate.hold("outbound", true);
    gate.clear();
    gate.hold("outbound", false);
    expect(s.calls).toEqual(["pause"]);
  });
});

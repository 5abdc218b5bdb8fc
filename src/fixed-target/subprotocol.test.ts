import { describe, expect, it } from "bun:test";
import { chooseSubprotocol } from "./subprotocol.ts";

describe("chooseSubprotocol", () => {
  it.each([
    [null, true, "none"],
    ["binary", true, "binary"],
    ["base64, binary", true, "binary"],
    [null, false, "none"],
  ])("offer %p, raw %p: %p selected", (offer, raw, selected) => {
    const choice = chooseSubprotocol(offer, raw);
    expect(choice).toEqual({ ok: true, selected: selected === "none" ? undefined : selected });
  });

  it.each([
    ["base64", true],
    ["", true],
    ["binary", false],
  ])("offer %p, raw %p: refused", (offer, raw) => {
    expect(chooseSubprotocol(offer, raw).ok).toBe(false);
  });
});

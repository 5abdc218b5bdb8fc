import { describe, expect, it } from "bun:test";
import { parseAccessFile } from "../auth/access-file.ts";
import { createPolicy } from "../policy/policy.ts";
import { createPrincipalAccess } from "./principal-access.ts";
import { principalBandwidth } from "./principal-bandwidth.ts";

const VOCABULARY = { protocols: ["tcp"], frontEnds: ["socket2web", "raw", "wisp"] };
const rules = parseAccessFile(
  [
    "[[rule]]",
    'principals = ["alice"]',
    "bandwidth_up = 1000",
    "bandwidth_down = 2000",
    "session_bandwidth_down = 500",
    "",
    "[[rule]]",
    'principals = ["bob"]',
    "max_sessions = 3",
  ].join("\n"),
  "access.toml",
  VOCABULARY,
);

describe("principalBandwidth", () => {
  const access = createPrincipalAccess(rules, createPolicy({ allow: [], deny: [] }));
  const bandwidthFor = principalBandwidth(access, (rate) => ({ rate }));
  const alice = { name: "alice", source: "token" } as const;

  it("shares the principal's limit between its sessions, and gives each session its own", () => {
    const first = bandwidthFor(alice, "raw");
    const second = bandwidthFor(alice, "wisp");
    expect(first?.up).toEqual([{ rate: 1000 }]);
    expect(first?.down).toEqual([{ rate: 2000 }, { rate: 500 }]);
    // The same object: one bucket for the principal as a whole.
    expect(second?.up[0]).toBe(first?.up[0] as { rate: number });
    expect(second?.down[0]).toBe(first?.down[0] as { rate: number });
    // A session's own limit is its own.
    expect(second?.down[1]).not.toBe(first?.down[1] as { rate: number });
  });

  it("no bandwidth keys, or no access file: no limits", () => {
    expect(bandwidthFor({ name: "bob", source: "token" }, "raw")).toBeUndefined();
    const none = principalBandwidth(
      createPrincipalAccess(undefined, createPolicy({ allow: [], deny: [] })),
      (rate) => rate,
    );
    expect(none(alice, "raw")).toBeUndefined();
  });
});

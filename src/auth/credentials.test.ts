import { beforeAll, describe, expect, it } from "bun:test";
import { SignJWT } from "jose";
import { parseAccessFile } from "./access-file.ts";
import { singleUseRule } from "./access-rules.ts";
import {
  bearerFromAuthorization,
  type CredentialFailureClass,
  createCredentialCheck,
  credentialFailure,
  protocolAllowed,
} from "./credentials.ts";
import { createMemoryReplayGuard } from "./replay.ts";
import { createTicketVerifier, type TicketVerifier } from "./tickets.ts";
import { createTokenSet, unnamedPrincipal } from "./tokens.ts";

const SECRET = "0123456789abcdef0123456789abcdef";
const TOKEN = "static-token-1";
let tickets: TicketVerifier;

beforeAll(async () => {
  tickets = await createTicketVerifier({ secret: SECRET });
});

function ticket(payload: Record<string, unknown>, exp = Math.floor(Date.now() / 1000) + 60) {
  return new SignJWT({ exp, ...payload })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

describe("createCredentialCheck", () => {
  it("needs nothing when nothing is configured", async () => {
    const check = createCredentialCheck({});
    expect(check.required).toBe(false);
    expect(await check.check(undefined)).toEqual({
      ok: true,
      kind: "anonymous",
      principal: { name: "anonymous", source: "anonymous" },
    });
    expect(createCredentialCheck({ tokens: createTokenSet([]) }).required).toBe(false);
  });

  it("accepts a static token and refuses others", async () => {
    const check = createCredentialCheck({ tokens: createTokenSet([TOKEN]) });
    expect(check.required).toBe(true);
    expect(await check.check(TOKEN)).toEqual({
      ok: true,
      kind: "token",
      principal: { name: unnamedPrincipal(TOKEN), source: "token" },
    });
    const missing = {
      ok: false,
      failure: "missing",
      reason: "a credential is required",
      clientReason: "a valid credential is required: none was given",
    } as const;
    expect(await check.check(undefined)).toEqual(missing);
    expect(await check.check("")).toEqual(missing);
    const wrong = await check.check("static-token-2");
    expect(wrong).toEqual({
      ok: false,
      failure: "not_valid",
      reason: "the credential is not valid",
      clientReason: "a valid credential is required: the one given is not valid",
    });
  });

  it("accepts a ticket and returns its pins", async () => {
    const check = createCredentialCheck({ tokens: createTokenSet([TOKEN]), tickets });
    const result = await check.check(await ticket({ allow: ["10.0.0.1:22"], protocols: ["tcp"] }));
    if (!result.ok || result.kind !== "ticket") throw new Error(JSON.stringify(result));
    expect(result.pins.allow?.map((rule) => rule.text)).toEqual(["10.0.0.1:22"]);
    expect(result.pins.protocols).toEqual(["tcp"]);
    expect(await check.check(TOKEN)).toEqual({
      ok: true,
      kind: "token",
      principal: { name: unnamedPrincipal(TOKEN), source: "token" },
    });
  });

  it("says why a ticket failed, without the ticket", async () => {
    const check = createCredentialCheck({ tickets });
    const expired = await ticket({}, Math.floor(Date.now() / 1000) - 60);
    const result = await check.check(expired);
    expect(result).toEqual({
      ok: false,
      failure: "expired",
      reason: "ticket rejected (expired): the ticket has expired",
      clientReason: "a valid credential is required: the ticket has expired",
    });
    expect(JSON.stringify(result)).not.toContain(expired.split(".")[2] ?? "-");
  });

  it("never echoes a wrong credential", async () => {
    const check = createCredentialCheck({ tokens: createTokenSet([TOKEN]), tickets });
    for (const presented of ["guess-123", "a.b.c", `${TOKEN}x`]) {
      const result = await check.check(presented);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain(presented);
    }
  });
});

describe("ticket principals", () => {
  it("names the holder by sub and keeps the claims rules may match", async () => {
    const check = createCredentialCheck({ tickets });
    const exp = Math.floor(Date.now() / 1000) + 60;
    const result = await check.check(await ticket({ sub: "alice", groups: ["ops"] }, exp));
    if (!result.ok || result.kind !== "ticket") throw new Error(JSON.stringify(result));
    expect(result.principal).toEqual({
      name: "alice",
      source: "ticket",
      claims: { sub: "alice", groups: ["ops"], exp },
    });
  });

  it("names a ticket without sub by a digest of its jti (else of the ticket)", async () => {
    const check = createCredentialCheck({ tickets });
    const byJti = await check.check(await ticket({ jti: "id-1" }));
    const digest = new Bun.CryptoHasher("sha256").update("id-1").digest("hex").slice(0, 8);
    expect(byJti.ok && byJti.principal?.name).toBe(`ticket:${digest}`);
    const bare = await ticket({});
    const byTicket = await check.check(bare);
    const whole = new Bun.CryptoHasher("sha256").update(bare).digest("hex").slice(0, 8);
    expect(byTicket.ok && byTicket.principal?.name).toBe(`ticket:${whole}`);
  });

  it("cuts a long sub (the name goes into every log line; the logger escapes controls)", async () => {
    const check = createCredentialCheck({ tickets });
    const result = await check.check(await ticket({ sub: `a\nb${"x".repeat(300)}` }));
    const name = result.ok ? (result.principal?.name ?? "") : "";
    expect(name).toStartWith("a\nbxxx");
    expect(name.length).toBe(128);
  });
});

describe("single-use tickets", () => {
  const singleUse = (maxEntries = 100) => ({
    guard: createMemoryReplayGuard({ maxEntries }),
    reason: () => "--ticket-single-use",
  });

  it("accepts a ticket once; a replay is refused with its own class", async () => {
    const check = createCredentialCheck({ tickets, singleUse: singleUse() });
    const once = await ticket({ sub: "alice", jti: "j-1" });
    expect((await check.check(once)).ok).toBe(true);
    expect(await check.check(once)).toEqual({
      ok: false,
      failure: "replayed",
      reason:
        "ticket rejected (replayed): its jti was used before (single use by --ticket-single-use)",
      clientReason: "a valid credential is required: the ticket was already used",
    });
    // Another ticket with the same jti is the same ticket to the guard.
    expect(await check.check(await ticket({ sub: "bob", jti: "j-1" }))).toMatchObject({
      failure: "replayed",
    });
    expect((await check.check(await ticket({ jti: "j-2" }))).ok).toBe(true);
  });

  it("needs a jti, and refuses (never lets through) what a full guard cannot remember", async () => {
    const check = createCredentialCheck({ tickets, singleUse: singleUse(2) });
    expect(await check.check(await ticket({ sub: "alice" }))).toMatchObject({
      failure: "invalid_claims",
      reason:
        "ticket rejected (invalid_claims): a single-use ticket needs a jti of 1 to 256 characters (single use by --ticket-single-use)",
    });
    expect((await check.check(await ticket({ jti: "a" }))).ok).toBe(true);
    expect((await check.check(await ticket({ jti: "b" }))).ok).toBe(true);
    expect(await check.check(await ticket({ jti: "c" }))).toMatchObject({
      failure: "replay_full",
    });
  });

  it("a bad ticket claims nothing: an expired or forged one does not burn its jti", async () => {
    const check = createCredentialCheck({ tickets, singleUse: singleUse() });
    const expired = await ticket({ jti: "j-9" }, Math.floor(Date.now() / 1000) - 60);
    expect(await check.check(expired)).toMatchObject({ failure: "expired" });
    expect((await check.check(await ticket({ jti: "j-9" }))).ok).toBe(true);
  });

  it("applies only where the access rules say, as they are at each ticket (a reload turns it on)", async () => {
    const parse = (text: string) =>
      parseAccessFile(text, "access.toml", { protocols: ["tcp"], frontEnds: ["socket2web"] });
    const access = {
      rules: parse(
        '[[rule]]\nname = "kiosks"\nprincipals = ["kiosk-*"]\nsingle_use_tickets = true\n' +
          '[[rule]]\nclaims = { groups = "ops" }\nsingle_use_tickets = false\n',
      ),
    };
    const check = createCredentialCheck({
      tickets,
      singleUse: { ...singleUse(), reason: (principal) => singleUseRule(access.rules, principal) },
    });
    const staff = await ticket({ sub: "staff", groups: ["ops"] });
    expect((await check.check(staff)).ok).toBe(true);
    expect((await check.check(staff)).ok).toBe(true);
    const kiosk = await ticket({ sub: "kiosk-1", jti: "k-1" });
    expect((await check.check(kiosk)).ok).toBe(true);
    expect(await check.check(kiosk)).toMatchObject({
      failure: "replayed",
      reason:
        "ticket rejected (replayed): its jti was used before (single use by access kiosks (line 1))",
    });
    expect(await check.check(await ticket({ sub: "kiosk-2" }))).toMatchObject({
      failure: "invalid_claims",
      reason:
        "ticket rejected (invalid_claims): a single-use ticket needs a jti of 1 to 256 characters (single use by access kiosks (line 1))",
      clientReason: "a valid credential is required: the ticket's claims are not valid",
    });
    // A reload: [default] now makes every other principal's tickets single use.
    access.rules = parse(
      '[[rule]]\nprincipals = ["kiosk-*"]\n[default]\nsingle_use_tickets = true\n',
    );
    const reused = await ticket({ sub: "staff", jti: "s-1" });
    expect((await check.check(reused)).ok).toBe(true);
    expect(await check.check(reused)).toMatchObject({
      failure: "replayed",
      reason:
        "ticket rejected (replayed): its jti was used before (single use by access [default])",
    });
    // The kiosks' rule no longer says so: their tickets may be reused.
    expect((await check.check(kiosk)).ok).toBe(true);
    expect((await check.check(kiosk)).ok).toBe(true);
  });
});

describe("bearerFromAuthorization", () => {
  it.each([
    [null, { kind: "absent" }],
    [undefined, { kind: "absent" }],
    ["Bearer abc.def-ghi_jkl", { kind: "bearer", credential: "abc.def-ghi_jkl" }],
    ["bearer abc==", { kind: "bearer", credential: "abc==" }],
    ["BEARER  tok!en ", { kind: "bearer", credential: "tok!en" }],
    ["Basic dXNlcjpwYXNz", { kind: "malformed" }],
    ["Bearer", { kind: "malformed" }],
    ["Bearer ", { kind: "malformed" }],
    ["Bearer a b", { kind: "malformed" }],
    ["Bearertoken", { kind: "malformed" }],
    ["", { kind: "malformed" }],
  ])("%p -> %j", (header, expected) => {
    expect(bearerFromAuthorization(header)).toEqual(expected as never);
  });
});

describe("protocolAllowed", () => {
  it("only narrows when the ticket lists protocols", () => {
    expect(protocolAllowed(undefined, "tcp")).toBe(true);
    expect(protocolAllowed({}, "tcp")).toBe(true);
    expect(protocolAllowed({ protocols: ["tcp"] }, "tcp")).toBe(true);
    expect(protocolAllowed({ protocols: ["tcp"] }, "udp")).toBe(false);
    expect(protocolAllowed({ protocols: ["tcp"] }, "TCP")).toBe(false);
    expect(protocolAllowed({ protocols: [] }, "tcp")).toBe(false);
  });
});

describe("credentialFailure", () => {
  const classes: CredentialFailureClass[] = [
    "missing",
    "not_valid",
    "malformed_header",
    "malformed",
    "unsupported_alg",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "invalid_claims",
    "unknown_key",
    "replayed",
    "replay_full",
  ];
  it.each(classes)("%s: the client's words fit a WebSocket close reason", (failure) => {
    const { clientReason } = credentialFailure(failure, "log only");
    expect(clientReason).toStartWith("a valid credential is required: ");
    expect(new TextEncoder().encode(clientReason).byteLength).toBeLessThanOrEqual(123);
    expect(clientReason).not.toContain("log only");
  });
});

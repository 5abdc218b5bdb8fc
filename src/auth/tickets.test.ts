import { beforeAll, describe, expect, it } from "bun:test";
import {
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { formatRange } from "../net/address.ts";
import { createTicketVerifier, TicketConfigError, type TicketVerifier } from "./tickets.ts";

const SECRET = "0123456789abcdef0123456789abcdef";
const NOW = new Date("2030-01-01T00:00:00Z");
const nowSeconds = NOW.getTime() / 1000;

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
let es: Keys;
let ed: Keys;
let otherEs: Keys;
let esPem: string;
let edPem: string;

beforeAll(async () => {
  es = await generateKeyPair("ES256", { extractable: true });
  ed = await generateKeyPair("EdDSA", { extractable: true });
  otherEs = await generateKeyPair("ES256", { extractable: true });
  esPem = await exportSPKI(es.publicKey);
  edPem = await exportSPKI(ed.publicKey);
});

function claims(extra: JWTPayload = {}): JWTPayload {
  return { exp: nowSeconds + 60, ...extra };
}

async function hs256(payload: JWTPayload, secret = SECRET): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(secret));
}

async function signed(alg: string, key: Keys["privateKey"], payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(key);
}

function verifier(options: Parameters<typeof createTicketVerifier>[0]): Promise<TicketVerifier> {
  return createTicketVerifier({ now: () => NOW, ...options });
}

describe("ticket configuration", () => {
  it("needs a secret or a key", async () => {
    await expect(createTicketVerifier({})).rejects.toThrow(TicketConfigError);
  });

  it("refuses a short secret without echoing it", async () => {
    const error = await createTicketVerifier({ secret: "short-secret" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TicketConfigError);
    expect((error as Error).message).toContain("at least 32 bytes");
    expect((error as Error).message).not.toContain("short-secret");
  });

  it("refuses a private key, garbage, and other key types", async () => {
    const pkcs8 = await exportPKCS8(es.privateKey);
    await expect(createTicketVerifier({ publicKeyPem: pkcs8 })).rejects.toThrow("private key");
    await expect(createTicketVerifier({ publicKeyPem: "not a pem" })).rejects.toThrow(
      "not a PEM public key",
    );
    const rsa = await generateKeyPair("RS256", { extractable: true });
    await expect(
      createTicketVerifier({ publicKeyPem: await exportSPKI(rsa.publicKey) }),
    ).rejects.toThrow("must be P-256 (ES256) or Ed25519");
  });

  it("lists the algorithms it accepts", async () => {
    expect((await verifier({ secret: SECRET, publicKeyPem: esPem })).algorithms).toEqual([
      "HS256",
      "ES256",
    ]);
    expect((await verifier({ publicKeyPem: edPem })).algorithms).toEqual(["EdDSA", "Ed25519"]);
  });
});

describe("ticket verification", () => {
  it("accepts HS256, ES256 and EdDSA tickets with their keys", async () => {
    const v = await verifier({ secret: SECRET, publicKeyPem: esPem });
    expect(await v.verify(await hs256(claims()))).toEqual({ ok: true, pins: {}, claims: claims() });
    expect(await v.verify(await signed("ES256", es.privateKey, claims()))).toEqual({
      ok: true,
      pins: {},
      claims: claims(),
    });
    const vEd = await verifier({ publicKeyPem: edPem });
    expect((await vEd.verify(await signed("EdDSA", ed.privateKey, claims()))).ok).toBe(true);
  });

  it("refuses alg none", async () => {
    const v = await verifier({ secret: SECRET, publicKeyPem: esPem });
    const unsecured = new UnsecuredJWT(claims()).encode();
    expect(await v.verify(unsecured)).toMatchObject({ ok: false, failure: "unsupported_alg" });
    // Same, with an empty signature segment stripped of its trailing dot.
    expect((await v.verify(unsecured.slice(0, -1))).ok).toBe(false);
  });

  it("refuses an algorithm it has no key for", async () => {
    const onlyPublic = await verifier({ publicKeyPem: esPem });
    expect(await onlyPublic.verify(await hs256(claims()))).toMatchObject({
      ok: false,
      failure: "unsupported_alg",
    });
    const onlySecret = await verifier({ secret: SECRET });
    expect(await onlySecret.verify(await signed("ES256", es.privateKey, claims()))).toMatchObject({
      ok: false,
      failure: "unsupported_alg",
    });
    expect(await onlySecret.verify(await signed("EdDSA", ed.privateKey, claims()))).toMatchObject({
      ok: false,
      failure: "unsupported_alg",
    });
  });

  it("refuses the public key used as an HMAC secret (key confusion)", async () => {
    const v = await verifier({ publicKeyPem: esPem });
    expect(await v.verify(await hs256(claims(), esPem))).toMatchObject({
      ok: false,
      failure: "unsupported_alg",
    });
  });

  it("refuses a wrong key", async () => {
    const v = await verifier({ secret: SECRET, publicKeyPem: esPem });
    expect(
      await v.verify(await hs256(claims(), "another-secret-of-32-bytes-length!")),
    ).toMatchObject({ ok: false, failure: "bad_signature" });
    expect(await v.verify(await signed("ES256", otherEs.privateKey, claims()))).toMatchObject({
      ok: false,
      failure: "bad_signature",
    });
  });

  it("refuses a header whose alg was swapped", async () => {
    const v = await verifier({ secret: SECRET, publicKeyPem: esPem });
    const token = await signed("ES256", es.privateKey, claims());
    const [, payload, signature] = token.split(".");
    const header = Buffer.from(JSON.stringify({ alg: "HS256" })).toString("base64url");
    const result = await v.verify(`${header}.${payload}.${signature}`);
    expect(result.ok).toBe(false);
  });

  it("refuses a tampered payload", async () => {
    const v = await verifier({ secret: SECRET });
    const [header, , signature] = (await hs256(claims({ allow: ["10.0.0.1"] }))).split(".");
    const payload = Buffer.from(JSON.stringify(claims({ allow: ["0.0.0.0/0"] }))).toString(
      "base64url",
    );
    expect(await v.verify(`${header}.${payload}.${signature}`)).toMatchObject({
      ok: false,
      failure: "bad_signature",
    });
  });

  it.each(["", "abc", "a.b", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.!!!.x"])(
    "refuses the malformed ticket %p",
    async (ticket) => {
      const v = await verifier({ secret: SECRET });
      const result = await v.verify(ticket);
      if (result.ok) throw new Error("accepted a malformed ticket");
      expect(["malformed", "unsupported_alg"]).toContain(result.failure);
    },
  );

  it("checks exp and nbf at the edges", async () => {
    const v = await verifier({ secret: SECRET });
    expect(await v.verify(await hs256({ exp: nowSeconds }))).toMatchObject({ failure: "expired" });
    expect((await v.verify(await hs256({ exp: nowSeconds + 1 }))).ok).toBe(true);
    expect(await v.verify(await hs256(claims({ nbf: nowSeconds + 1 })))).toMatchObject({
      failure: "not_yet_valid",
    });
    expect((await v.verify(await hs256(claims({ nbf: nowSeconds })))).ok).toBe(true);
  });

  it("honours a clock tolerance", async () => {
    const v = await verifier({ secret: SECRET, clockToleranceSeconds: 30 });
    expect((await v.verify(await hs256({ exp: nowSeconds - 10 }))).ok).toBe(true);
    expect((await v.verify(await hs256({ exp: nowSeconds - 31 }))).ok).toBe(false);
  });

  it("requires exp unless told otherwise", async () => {
    const strict = await verifier({ secret: SECRET });
    expect(await strict.verify(await hs256({}))).toMatchObject({ failure: "invalid_claims" });
    const lax = await verifier({ secret: SECRET, requireExpiry: false });
    expect((await lax.verify(await hs256({}))).ok).toBe(true);
  });

  it("checks issuer and audience when configured", async () => {
    const v = await verifier({ secret: SECRET, issuer: "issuer-a", audience: "socket2web" });
    expect((await v.verify(await hs256(claims({ iss: "issuer-a", aud: "socket2web" })))).ok).toBe(
      true,
    );
    expect(
      await v.verify(await hs256(claims({ iss: "issuer-b", aud: "socket2web" }))),
    ).toMatchObject({ failure: "wrong_issuer" });
    expect(await v.verify(await hs256(claims({ iss: "issuer-a" })))).toMatchObject({
      failure: "wrong_audience",
    });
    expect(
      await v.verify(await hs256(claims({ iss: "issuer-a", aud: "elsewhere" }))),
    ).toMatchObject({ failure: "wrong_audience" });
  });
});

describe("ticket claims", () => {
  it("parses allow rules and protocols", async () => {
    const v = await verifier({ secret: SECRET });
    const result = await v.verify(
      await hs256(claims({ allow: ["10.0.0.0/8:22", "db.internal"], protocols: ["tcp"] })),
    );
    if (!result.ok) throw new Error(result.reason);
    const allow = result.pins.allow ?? [];
    expect(allow.map((rule) => rule.text)).toEqual(["10.0.0.0/8:22", "db.internal"]);
    const first = allow[0]?.target;
    expect(first?.kind === "address" && formatRange(first.range)).toBe("10.0.0.0/8");
    expect(result.pins.protocols).toEqual(["tcp"]);
  });

  it("reads proxy_protocol (v1, v2 or off)", async () => {
    const v = await verifier({ secret: SECRET });
    const result = await v.verify(await hs256(claims({ proxy_protocol: "v2" })));
    if (!result.ok) throw new Error(result.reason);
    expect(result.pins.proxyProtocol).toBe("v2");
  });

  it("keeps an empty allow list (it allows nothing)", async () => {
    const v = await verifier({ secret: SECRET });
    expect(await v.verify(await hs256(claims({ allow: [] })))).toEqual({
      ok: true,
      pins: { allow: [] },
      claims: claims({ allow: [] }),
    });
  });

  it.each([
    [{ allow: "10.0.0.0/8" }, "claim allow must be a list"],
    [{ allow: [1] }, "claim allow must be a list"],
    [{ allow: ["10.0.0.1/8"] }, 'claim allow: invalid rule "10.0.0.1/8"'],
    [{ allow: Array.from({ length: 257 }, () => "10.0.0.1") }, "at most 256"],
    [{ protocols: "tcp" }, "claim protocols must be a list"],
    [{ protocols: [""] }, "claim protocols must be a list"],
    [{ protocols: [null] }, "claim protocols must be a list"],
    [{ proxy_protocol: "v3" }, "claim proxy_protocol must be one of v1, v2, off"],
    [{ proxy_protocol: 2 }, "claim proxy_protocol must be one of v1, v2, off"],
  ])("refuses malformed claims %j", async (extra, reason) => {
    const v = await verifier({ secret: SECRET });
    const result = await v.verify(await hs256(claims(extra)));
    expect(result).toMatchObject({ ok: false, failure: "invalid_claims" });
    expect(result.ok === false && result.reason).toContain(reason);
  });
});

describe("claims naming a target (host and port, as websockify's JWT token plugin)", () => {
  it("read host and port, and pin the ticket to them when there is no allow claim", async () => {
    const v = await verifier({ secret: SECRET });
    const result = await v.verify(await hs256(claims({ host: "10.0.0.5", port: 5900 })));
    if (!result.ok) throw new Error(result.reason);
    expect(result.pins.target).toEqual({ host: "10.0.0.5", port: 5900 });
    expect(result.pins.allow?.map((rule) => rule.text)).toEqual(["10.0.0.5:5900"]);
  });

  it("take a port as decimal text and an IPv6 host; an allow claim stays as given", async () => {
    const v = await verifier({ secret: SECRET });
    const result = await v.verify(
      await hs256(claims({ host: "::1", port: "5901", allow: ["10.0.0.0/8"] })),
    );
    if (!result.ok) throw new Error(result.reason);
    expect(result.pins.target).toEqual({ host: "::1", port: 5901 });
    expect(result.pins.allow?.map((rule) => rule.text)).toEqual(["10.0.0.0/8"]);
  });

  it.each([
    [{ host: "10.0.0.5" }, "claim port"],
    [{ port: 5900 }, "claim host"],
    [{ host: "10.0.0.5", port: 0 }, "claim port"],
    [{ host: "10.0.0.5", port: "059" }, "claim port"],
    [{ host: "10.0.0.5", port: 5900.5 }, "claim port"],
    [{ host: "127.1", port: 5900 }, "claim host"],
    [{ host: 7, port: 5900 }, "claim host"],
  ])("refuse %p", async (extra, problem) => {
    const v = await verifier({ secret: SECRET });
    const result = await v.verify(await hs256(claims(extra)));
    expect(result).toMatchObject({ ok: false, failure: "invalid_claims" });
    if (!result.ok) expect(result.reason).toContain(problem);
  });
});

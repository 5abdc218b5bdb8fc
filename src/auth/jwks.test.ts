import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { keySet, type PyMinted, pyjwtMint, pyjwtMissing } from "../../tests/helpers/pyjwt.ts";
import { removeTempDir, tempDir } from "../../tests/helpers/tls-cert.ts";
import { JwksError, parseKeySet } from "./jwks.ts";
import { createJwksSource, JwksLoadError, type JwksSource } from "./jwks-source.ts";
import { createTicketVerifier } from "./tickets.ts";

const missing = pyjwtMissing();
if (missing) console.log(`skipping the PyJWT key set tests: ${missing}`);

const exp = Math.floor(Date.now() / 1000) + 3600;
let minted: PyMinted;
let dir: string;

beforeAll(async () => {
  if (missing) return;
  dir = tempDir();
  minted = await pyjwtMint(
    [
      { kid: "rsa-1", alg: "RS256" },
      { kid: "ec-1", alg: "ES256" },
      { kid: "ed-1", alg: "EdDSA" },
      { kid: "ec-2", alg: "ES256" },
      { kid: "rsa-small", alg: "RS256", bits: 1024 },
    ],
    [
      { key: "rsa-1", claims: { sub: "alice", exp, groups: ["ops"] } },
      { key: "ec-1", claims: { sub: "bob", exp } },
      { key: "ed-1", claims: { sub: "carol", exp } },
      { key: "ec-2", claims: { sub: "dave", exp } },
      // Signed by ec-2 but naming ec-1: the signature must not verify.
      { key: "ec-2", kid: "ec-1", claims: { sub: "mallory", exp } },
      { key: "ec-1", noKid: true, claims: { sub: "nokid", exp } },
    ],
  );
}, 60_000);

afterAll(() => removeTempDir(dir));

const TOKEN = { alice: 0, bob: 1, carol: 2, dave: 3, wrongKid: 4, noKid: 5 } as const;

async function fromFile(...kids: string[]): Promise<JwksSource> {
  const file = join(dir, `set-${kids.join("-")}.json`);
  writeFileSync(file, keySet(minted, ...kids));
  return createJwksSource({ location: file, label: "--ticket-jwks" });
}

describe.skipIf(missing !== undefined)("tickets verified by a JSON Web Key Set (PyJWT)", () => {
  it("accepts RS256, ES256 and EdDSA tickets PyJWT signed, each by its kid", async () => {
    const v = await createTicketVerifier({ jwks: await fromFile("rsa-1", "ec-1", "ed-1") });
    expect(v.algorithms).toEqual(["RS256", "ES256", "EdDSA", "Ed25519"]);
    for (const [i, sub] of [
      [TOKEN.alice, "alice"],
      [TOKEN.bob, "bob"],
      [TOKEN.carol, "carol"],
    ] as const) {
      const result = await v.verify(minted.tokens[i] as string);
      expect(result).toMatchObject({ ok: true, claims: { sub } });
    }
    expect(await v.verify(minted.tokens[TOKEN.alice] as string)).toMatchObject({
      claims: { groups: ["ops"] },
    });
  });

  it("refuses a kid the set lacks, a ticket without kid, and a kid that names another key", async () => {
    const v = await createTicketVerifier({ jwks: await fromFile("rsa-1", "ec-1") });
    expect(await v.verify(minted.tokens[TOKEN.dave] as string)).toMatchObject({
      ok: false,
      failure: "unknown_key",
      reason: 'no key with kid "ec-2" in the key set',
    });
    expect(await v.verify(minted.tokens[TOKEN.noKid] as string)).toMatchObject({
      failure: "unknown_key",
    });
    expect(await v.verify(minted.tokens[TOKEN.wrongKid] as string)).toMatchObject({
      failure: "bad_signature",
    });
  });

  it("refuses HS256 (no secret) and a kid used with another algorithm", async () => {
    const v = await createTicketVerifier({ jwks: await fromFile("rsa-1", "ec-1") });
    const hs = await new SignJWT({ exp })
      .setProtectedHeader({ alg: "HS256", kid: "rsa-1" })
      .sign(new TextEncoder().encode("0123456789abcdef0123456789abcdef"));
    expect(await v.verify(hs)).toMatchObject({ failure: "unsupported_alg" });
    // ec-1's ticket re-labelled RS256: the kid's key does not do RS256.
    const [, payload, signature] = (minted.tokens[TOKEN.bob] as string).split(".");
    const header = Buffer.from(JSON.stringify({ alg: "RS256", kid: "ec-1" })).toString("base64url");
    expect(await v.verify(`${header}.${payload}.${signature}`)).toMatchObject({
      failure: "unknown_key",
      reason: 'key "ec-1" does not verify alg "RS256"',
    });
  });

  it("refuses key sets that are wrong: small RSA, private keys, no usable key, not JSON", () => {
    expect(() => parseKeySet(keySet(minted, "rsa-small"))).toThrow(
      'key "rsa-small" is RSA with fewer than 2048 bits',
    );
    const withPrivate = JSON.stringify({ keys: [{ ...minted.jwks["ec-1"], d: "AAAA" }] });
    expect(() => parseKeySet(withPrivate)).toThrow("holds a private key");
    expect(() =>
      parseKeySet(JSON.stringify({ keys: [{ kty: "oct", k: "AAAA", kid: "x" }] })),
    ).toThrow("holds no signing key");
    expect(() => parseKeySet("{")).toThrow(JwksError);
    expect(() => parseKeySet(keySet(minted, "ec-1", "ec-1"))).toThrow("two keys with kid");
  });

  it("a file that is not a key set is a start-up error naming the setting and file", async () => {
    const file = join(dir, "not-a-set.json");
    writeFileSync(file, '{"hello": 1}');
    const attempt = createJwksSource({ location: file, label: "--ticket-jwks" });
    await expect(attempt).rejects.toThrow(JwksLoadError);
    await expect(createJwksSource({ location: file, label: "--ticket-jwks" })).rejects.toThrow(
      `--ticket-jwks file ${file} is not a JSON Web Key Set`,
    );
  });
});

/** A loopback identity provider whose key set the test changes; counts its requests. */
function identityProvider(initial: string) {
  let body: string | undefined = initial;
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      requests++;
      return body === undefined
        ? new Response("down", { status: 503 })
        : new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    serve(next: string | undefined) {
      body = next;
    },
    stop: () => server.stop(true),
  };
}

describe.skipIf(missing !== undefined)("a key set URL (loopback identity provider)", () => {
  it("fetches again on the first unknown kid, then at most once per interval", async () => {
    const idp = identityProvider(keySet(minted, "rsa-1"));
    try {
      const clock = 0;
      const source = await createJwksSource({
        location: idp.url,
        label: "--ticket-jwks",
        minRefreshMs: 60_000,
        now: () => clock,
      });
      const v = await createTicketVerifier({ jwks: source });
      expect(await v.verify(minted.tokens[TOKEN.dave] as string)).toMatchObject({
        failure: "unknown_key",
      });
      // The start-up load, then the first unknown kid's fetch; the clock has not moved since.
      expect(idp.requests).toBe(2);
      idp.serve(keySet(minted, "rsa-1", "ec-2"));
      expect(await v.verify(minted.tokens[TOKEN.dave] as string)).toMatchObject({
        failure: "unknown_key",
      });
      expect(idp.requests).toBe(2);
      source.close();
    } finally {
      idp.stop();
    }
  });

  it("a rotated-in key is found by its kid; a flood of unknown kids fetches once", async () => {
    const idp = identityProvider(keySet(minted, "rsa-1"));
    let clock = 100_000;
    try {
      const source = await createJwksSource({
        location: idp.url,
        label: "--ticket-jwks",
        minRefreshMs: 30_000,
        now: () => clock,
      });
      const v = await createTicketVerifier({ jwks: source });
      expect((await v.verify(minted.tokens[TOKEN.alice] as string)).ok).toBe(true);
      idp.serve(keySet(minted, "rsa-1", "ec-2"));
      clock += 30_000;
      const flood = await Promise.all(
        Array.from({ length: 50 }, () => v.verify(minted.tokens[TOKEN.dave] as string)),
      );
      expect(flood.every((result) => result.ok)).toBe(true);
      expect(idp.requests).toBe(2);
      // Unknown kids right after: no fetch until the interval has passed.
      for (let i = 0; i < 20; i++) {
        expect(await v.verify(minted.tokens[TOKEN.carol] as string)).toMatchObject({
          failure: "unknown_key",
        });
      }
      expect(idp.requests).toBe(2);
      source.close();
    } finally {
      idp.stop();
    }
  });

  it("keeps the last good set when a refresh fails, and says so", async () => {
    const idp = identityProvider(keySet(minted, "rsa-1", "ec-1"));
    try {
      const source = await createJwksSource({ location: idp.url, label: "--ticket-jwks" });
      const told: string[] = [];
      source.report((level, text) => told.push(`${level}: ${text}`));
      const v = await createTicketVerifier({ jwks: source });
      idp.serve(undefined);
      expect(await source.refresh()).toBe(false);
      idp.serve("not json");
      expect(await source.refresh()).toBe(false);
      idp.serve(JSON.stringify({ keys: [] }));
      expect(await source.refresh()).toBe(false);
      expect((await v.verify(minted.tokens[TOKEN.alice] as string)).ok).toBe(true);
      expect((await v.verify(minted.tokens[TOKEN.bob] as string)).ok).toBe(true);
      expect(told).toEqual([
        `warn: --ticket-jwks ${idp.url} could not be refreshed (answered HTTP 503): keeping the last good key set`,
        `warn: --ticket-jwks ${idp.url} could not be refreshed (is not JSON): keeping the last good key set`,
        `warn: --ticket-jwks ${idp.url} could not be refreshed (holds no signing key with a kid for RS256, ES256, EdDSA, Ed25519): keeping the last good key set`,
      ]);
      // A key the provider dropped stops working at the next good refresh.
      idp.serve(keySet(minted, "ec-1"));
      expect(await source.refresh()).toBe(true);
      expect(await v.verify(minted.tokens[TOKEN.alice] as string)).toMatchObject({
        failure: "unknown_key",
      });
      source.close();
    } finally {
      idp.stop();
    }
  });

  it("refreshes on its schedule", async () => {
    const idp = identityProvider(keySet(minted, "rsa-1"));
    try {
      const source = await createJwksSource({
        location: idp.url,
        label: "--ticket-jwks",
        refreshMs: 50,
      });
      const changed = new Promise<string>((resolve) =>
        source.report((_level, text) => resolve(text)),
      );
      const v = await createTicketVerifier({ jwks: source });
      idp.serve(keySet(minted, "rsa-1", "ed-1"));
      expect(await changed).toBe(`--ticket-jwks ${idp.url} now holds 2 keys (was 1)`);
      expect(idp.requests).toBeGreaterThan(1);
      expect((await v.verify(minted.tokens[TOKEN.carol] as string)).ok).toBe(true);
      source.close();
    } finally {
      idp.stop();
    }
  });

  it("a URL that does not answer with a key set is a start-up error", async () => {
    const idp = identityProvider("");
    idp.serve(undefined);
    try {
      await expect(createJwksSource({ location: idp.url, label: "--ticket-jwks" })).rejects.toThrow(
        `--ticket-jwks ${idp.url} answered HTTP 503`,
      );
    } finally {
      idp.stop();
    }
  });
});

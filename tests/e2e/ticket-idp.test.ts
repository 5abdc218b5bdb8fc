import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { echoOutcome } from "../helpers/echo-outcome.ts";
import { type RunningProxy, runStartupError, startProxy } from "../helpers/proxy.ts";
import { keySet, type PyMinted, pyjwtMint, pyjwtMissing } from "../helpers/pyjwt.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";
import { openClient } from "../helpers/ws-client.ts";

// Tickets from an identity provider: keys and tickets made by PyJWT, the key set served by a
// loopback HTTP server, the real proxy process verifying them.

const missing = pyjwtMissing();
if (missing) console.log(`skipping the identity provider tests: ${missing}`);

const ISSUER = "https://idp.test";
const AUDIENCE = "socket2web";
const exp = Math.floor(Date.now() / 1000) + 3600;

let echo: TcpTarget;
let dir: string;
let minted: PyMinted;
let served: string;
let requests = 0;
let idp: ReturnType<typeof Bun.serve>;

const claims = (extra: Record<string, unknown>) => ({ iss: ISSUER, aud: AUDIENCE, exp, ...extra });

/** The tickets, by name, in the order given to PyJWT. */
const NAMES = [
  "rsa",
  "ec",
  "ed",
  "rotated",
  "wrongIssuer",
  "wrongAudience",
  "noAudience",
  "once",
  "noJti",
  "raw",
] as const;
const token = (name: (typeof NAMES)[number]) => minted.tokens[NAMES.indexOf(name)] as string;

beforeAll(async () => {
  if (missing) return;
  echo = startTcpTarget("echo");
  dir = tempDir();
  minted = await pyjwtMint(
    [
      { kid: "rsa-2026", alg: "RS256" },
      { kid: "ec-2026", alg: "ES256" },
      { kid: "ed-2026", alg: "EdDSA" },
      { kid: "ec-2027", alg: "ES256" },
    ],
    [
      { key: "rsa-2026", claims: claims({ sub: "alice", jti: "t-rsa", groups: ["ops"] }) },
      { key: "ec-2026", claims: claims({ sub: "bob", jti: "t-ec" }) },
      { key: "ed-2026", claims: claims({ sub: "carol", jti: "t-ed" }) },
      { key: "ec-2027", claims: claims({ sub: "dave", jti: "t-rotated" }) },
      { key: "ec-2026", claims: claims({ sub: "eve", jti: "t-iss", iss: "https://other.test" }) },
      { key: "ec-2026", claims: claims({ sub: "eve", jti: "t-aud", aud: "another-service" }) },
      { key: "ec-2026", claims: { iss: ISSUER, exp, sub: "eve", jti: "t-noaud" } },
      { key: "ed-2026", claims: claims({ sub: "frank", jti: "t-once" }) },
      { key: "ed-2026", claims: claims({ sub: "frank" }) },
      {
        key: "ec-2026",
        claims: claims({ sub: "vnc", jti: "t-raw", host: "127.0.0.1", port: echo.port }),
      },
    ],
  );
  served = keySet(minted, "rsa-2026", "ec-2026", "ed-2026");
  idp = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      requests++;
      return new Response(served, { headers: { "content-type": "application/json" } });
    },
  });
}, 60_000);

afterAll(() => {
  echo?.stop();
  idp?.stop(true);
  removeTempDir(dir);
});

const jwksUrl = () => `http://127.0.0.1:${idp.port}/.well-known/jwks.json`;

const outcome = (proxy: RunningProxy, ticket: string) => echoOutcome(proxy.url, echo.port, ticket);

const refused = (words: string) => `a valid credential is required: ${words} 4401`;

describe.skipIf(missing !== undefined)(
  "tickets from an identity provider (PyJWT, JWKS URL)",
  () => {
    test("RS256, ES256 and EdDSA tickets verify by kid; iss and aud are checked; a new kid fetches the set again", async () => {
      const proxy = await startProxy([
        "--allow",
        "127.0.0.1",
        "--ticket-jwks",
        jwksUrl(),
        "--ticket-issuer",
        ISSUER,
        "--ticket-audience",
        AUDIENCE,
      ]);
      try {
        await proxy.waitForOutput("credential: tickets (RS256, ES256, EdDSA, Ed25519)");
        expect(await outcome(proxy, token("rsa"))).toBe("connected");
        expect(await outcome(proxy, token("ec"))).toBe("connected");
        expect(await outcome(proxy, token("ed"))).toBe("connected");
        // Without --ticket-single-use a ticket works until it expires.
        expect(await outcome(proxy, token("rsa"))).toBe("connected");
        expect(await outcome(proxy, token("wrongIssuer"))).toBe(
          refused("the ticket is from another issuer"),
        );
        expect(await outcome(proxy, token("wrongAudience"))).toBe(
          refused("the ticket is for another audience"),
        );
        expect(await outcome(proxy, token("noAudience"))).toBe(
          refused("the ticket is for another audience"),
        );
        // The provider rotates a key in; the proxy fetched its set at start-up only.
        const before = requests;
        served = keySet(minted, "ec-2026", "ec-2027");
        expect(await outcome(proxy, token("rotated"))).toBe("connected");
        expect(requests).toBe(before + 1);
        // In the Authorization header too.
        const answer = await upgradeAnswer(proxy.port, "/", {
          Authorization: `Bearer ${token("rotated")}`,
        });
        expect(answer.status).toBe(101);
        // A forged kid: refused with its class, and no second fetch within 30 s.
        const forged = `${Buffer.from(JSON.stringify({ alg: "ES256", kid: "nope" })).toString("base64url")}.${token("ec").split(".").slice(1).join(".")}`;
        expect(await outcome(proxy, forged)).toBe(refused("the ticket's key is not known"));
        expect(requests).toBe(before + 1);
        // A raw session (websockify's JWT form): the ticket in ?token= names the target.
        const raw = await openClient(`${proxy.url}/?token=${token("raw")}`);
        raw.send(new TextEncoder().encode("raw bytes"));
        expect(new TextDecoder().decode(await raw.readBytes(9))).toBe("raw bytes");
        raw.close();
        // Tickets never reach the log.
        for (const name of NAMES) expect(proxy.output()).not.toContain(token(name).split(".")[2]);
      } finally {
        served = keySet(minted, "rsa-2026", "ec-2026", "ed-2026");
        await proxy.stop();
      }
    }, 60_000);

    test("--ticket-single-use: a ticket is accepted once, a replay is refused; a ticket needs a jti", async () => {
      const keys = join(dir, "jwks.json");
      writeFileSync(keys, keySet(minted, "ed-2026", "ec-2026"));
      const proxy = await startProxy([
        "--allow",
        "127.0.0.1",
        "--ticket-jwks",
        keys,
        "--ticket-single-use",
      ]);
      try {
        expect(await outcome(proxy, token("once"))).toBe("connected");
        expect(await outcome(proxy, token("once"))).toBe(refused("the ticket was already used"));
        const replay = await upgradeAnswer(proxy.port, "/", {
          Authorization: `Bearer ${token("once")}`,
        });
        expect(replay.status).toBe(401);
        expect(replay.body).toContain("the ticket was already used");
        expect(await outcome(proxy, token("noJti"))).toBe(
          refused("the ticket's claims are not valid"),
        );
        await proxy.waitForOutput("ticket rejected (replayed): its jti was used before");
        // Another ticket is unaffected.
        expect(await outcome(proxy, token("ed"))).toBe("connected");
      } finally {
        await proxy.stop();
      }
    }, 60_000);

    test("start-up errors name the setting", async () => {
      const bad = join(dir, "bad.json");
      writeFileSync(bad, JSON.stringify({ keys: [{ ...minted.jwks["ec-2026"], d: "AAAA" }] }));
      const privateKeys = await runStartupError(["--ticket-jwks", bad]);
      expect(privateKeys.code).toBe(2);
      expect(privateKeys.stderr).toContain(
        `--ticket-jwks file ${bad} holds a private key; publish only the public keys`,
      );
      const single = await runStartupError(["--ticket-single-use"]);
      expect(single.stderr).toContain(
        "--ticket-single-use needs tickets (--ticket-secret, --ticket-public-key or --ticket-jwks)",
      );
      const good = join(dir, "good.json");
      writeFileSync(good, keySet(minted, "ec-2026"));
      const workers = await runStartupError([
        "--ticket-jwks",
        good,
        "--ticket-single-use",
        "--workers",
        "2",
      ]);
      expect(workers.stderr).toContain(
        "--ticket-single-use needs --workers 1, or --state: the used tickets are remembered in one process",
      );
      const issuer = await runStartupError(["--ticket-issuer", ISSUER]);
      expect(issuer.stderr).toContain("--ticket-issuer needs tickets");
      const scheme = await runStartupError(["--ticket-jwks", "ftp://127.0.0.1/jwks.json"]);
      expect(scheme.stderr).toContain("--ticket-jwks expects a file or an http(s) URL");
    });
  },
);

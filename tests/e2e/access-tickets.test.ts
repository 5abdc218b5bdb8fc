// Access rules for ticket principals, against the real process: tickets signed by `jose` (an
// implementation independent of the proxy's verifier), an access file whose rules match their
// `sub` or their claims, and what the rules decide: single use, and which targets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { echoOutcome } from "../helpers/echo-outcome.ts";
import { type RunningProxy, runStartupError, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { upgradeAnswer } from "../helpers/upgrade-answer.ts";

const SECRET = "access-rules-ticket-secret-0123456789";

let echo: TcpTarget;
let other: TcpTarget;
let dir: string;
let secretFile: string;
beforeAll(async () => {
  echo = startTcpTarget("echo");
  other = startTcpTarget("echo");
  dir = tempDir("socket2web-access-tickets-");
  secretFile = join(dir, "ticket-secret");
  // An editor's final newline is not part of the secret.
  await Bun.write(secretFile, `${SECRET}\n`);
});
afterAll(() => {
  echo.stop();
  other.stop();
  removeTempDir(dir);
});

function ticket(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
    .sign(new TextEncoder().encode(SECRET));
}

/** Replaces the file in one step, so that a reload never reads half of it. */
function writeAccess(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

const outcome = (proxy: RunningProxy, credential: string, target = echo) =>
  echoOutcome(proxy.url, target.port, credential);

/** The proxy verifying tickets with SECRET, under the access file `access`. */
const startWithAccess = (access: string, ...more: string[]) =>
  startProxy([
    "--allow",
    "127.0.0.1",
    "--ticket-secret-file",
    secretFile,
    "--access",
    access,
    ...more,
  ]);

const unauthorized = (words: string) => `a valid credential is required: ${words} 4401`;

describe("single_use_tickets in the access file", () => {
  test("a rule's tickets are accepted once (the handshake and the header alike), need a jti, and a reload turns it on for another rule", async () => {
    const access = join(dir, "single-use.toml");
    writeAccess(
      access,
      [
        "[[rule]]",
        'name = "kiosks"',
        'principals = ["kiosk-*"]',
        "single_use_tickets = true",
        "",
        "[[rule]]",
        'name = "staff"',
        'principals = ["staff-*"]',
        "",
      ].join("\n"),
    );
    const proxy = await startWithAccess(access);
    try {
      const kiosk = await ticket({ sub: "kiosk-1", jti: "kiosk-ticket-1" });
      expect(await outcome(proxy, kiosk)).toBe("connected");
      expect(await outcome(proxy, kiosk)).toBe(unauthorized("the ticket was already used"));
      // In the Authorization header: HTTP 401 before the upgrade, with the same words.
      const header = await upgradeAnswer(proxy.port, "/", { Authorization: `Bearer ${kiosk}` });
      expect(header.status).toBe(401);
      expect(header.headers["www-authenticate"]).toStartWith("Bearer");
      expect(header.body).toContain("a valid credential is required: the ticket was already used");
      await proxy.waitForOutput(
        "ticket rejected (replayed): its jti was used before (single use by access kiosks (line 1))",
      );
      // Without a jti there is nothing to remember it by: refused, and the log says why.
      expect(await outcome(proxy, await ticket({ sub: "kiosk-2" }))).toBe(
        unauthorized("the ticket's claims are not valid"),
      );
      await proxy.waitForOutput(
        "ticket rejected (invalid_claims): a single-use ticket needs a jti of 1 to 256 characters (single use by access kiosks (line 1))",
      );
      // Another rule's tickets are reusable, with or without a jti.
      const staff = await ticket({ sub: "staff-1", jti: "staff-ticket-1" });
      expect(await outcome(proxy, staff)).toBe("connected");
      expect(await outcome(proxy, staff)).toBe("connected");
      const staffWithoutJti = await ticket({ sub: "staff-2" });
      expect(await outcome(proxy, staffWithoutJti)).toBe("connected");
      expect(await outcome(proxy, staffWithoutJti)).toBe("connected");

      // The staff rule turns single use on while the server runs (a third rule tells the reload).
      writeAccess(
        access,
        [
          "[[rule]]",
          'name = "kiosks"',
          'principals = ["kiosk-*"]',
          "single_use_tickets = true",
          "",
          "[[rule]]",
          'name = "staff"',
          'principals = ["staff-*"]',
          "single_use_tickets = true",
          "",
          "[[rule]]",
          'principals = ["guest"]',
          "",
        ].join("\n"),
      );
      proxy.proc.kill("SIGHUP");
      await proxy.waitForOutput(/reloaded 3 access rules from /);
      // The same staff ticket, used twice before: the first use under the new rule is its one.
      expect(await outcome(proxy, staff)).toBe("connected");
      expect(await outcome(proxy, staff)).toBe(unauthorized("the ticket was already used"));
      expect(await outcome(proxy, staffWithoutJti)).toBe(
        unauthorized("the ticket's claims are not valid"),
      );
      // The kiosk's ticket stays used.
      expect(await outcome(proxy, kiosk)).toBe(unauthorized("the ticket was already used"));
    } finally {
      await proxy.stop();
    }
  }, 30_000);

  test("with several workers and no --state the key is a start-up error at its line, and a reload that adds it is refused", async () => {
    const access = join(dir, "workers.toml");
    writeAccess(access, '[[rule]]\nprincipals = ["kiosk-*"]\n\nsingle_use_tickets = true\n');
    const run = await runStartupError([
      "--ticket-secret-file",
      secretFile,
      "--access",
      access,
      "--workers",
      "2",
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--access: ${access}:4: single_use_tickets: needs --workers 1, or --state: the used tickets are remembered in one process`,
    );
    // Without tickets the key concerns nobody: no error.
    const tokensOnly = await startProxy(["--access", access, "--workers", "2"]);
    await tokensOnly.stop();
    // Added by a reload: each worker keeps its old rules, and says why.
    writeAccess(access, '[[rule]]\nprincipals = ["kiosk-*"]\n');
    const proxy = await startWithAccess(access, "--workers", "2");
    try {
      await proxy.waitForOutput(
        (text) => (text.match(/\[worker \d\].*listening on/g) ?? []).length === 2,
      );
      writeAccess(access, '[[rule]]\nprincipals = ["kiosk-*"]\nsingle_use_tickets = true\n');
      const kept = new RegExp(
        `kept the old access rules: ${access.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: single_use_tickets: needs --workers 1, or --state`,
        "g",
      );
      await proxy.waitForOutput((text) => (text.match(kept) ?? []).length >= 2);
      const kiosk = await ticket({ sub: "kiosk-1", jti: "kiosk-workers-1" });
      expect(await outcome(proxy, kiosk)).toBe("connected");
      expect(await outcome(proxy, kiosk)).toBe("connected");
    } finally {
      await proxy.stop();
    }
  }, 20_000);
});

describe("a claim rule decides a ticket principal's targets", () => {
  test('claims = { groups = "ops" }: a ticket holding the group reaches the rule\'s target only; one without it falls to [default]', async () => {
    const access = join(dir, "claims.toml");
    writeAccess(
      access,
      [
        "[[rule]]",
        'name = "ops"',
        'claims = { groups = "ops" }',
        `allow = ["127.0.0.1:${echo.port}"]`,
        "",
        "[default]",
        `allow = ["127.0.0.1:${other.port}"]`,
        "",
      ].join("\n"),
    );
    const proxy = await startWithAccess(access);
    try {
      const ops = await ticket({ sub: "alice", groups: ["dev", "ops"] });
      const dev = await ticket({ sub: "bob", groups: ["dev"] });
      const forbidden = (target: TcpTarget) => `127.0.0.1:${target.port} is not allowed 4403`;
      const otherBefore = await other.connectionsSoFar();
      expect(await outcome(proxy, ops, echo)).toBe("connected");
      expect(await outcome(proxy, ops, other)).toBe(forbidden(other));
      // Refused before any connect to the target.
      expect(await other.connectionsSoFar()).toBe(otherBefore);
      const echoBefore = await echo.connectionsSoFar();
      expect(await outcome(proxy, dev, other)).toBe("connected");
      expect(await outcome(proxy, dev, echo)).toBe(forbidden(echo));
      expect(await echo.connectionsSoFar()).toBe(echoBefore);
      // The log names the rule that refused, and each session's principal.
      await proxy.waitForOutput(
        `forbidden tcp 127.0.0.1:${other.port}: 127.0.0.1:${other.port} is not allowed by ops`,
      );
      await proxy.waitForOutput(
        `forbidden tcp 127.0.0.1:${echo.port}: 127.0.0.1:${echo.port} is not allowed by default`,
      );
      await proxy.waitForOutput(
        new RegExp(`-> tcp 127\\.0\\.0\\.1:${echo.port} up 4 B down 4 B .* principal=alice`),
      );
      await proxy.waitForOutput(
        new RegExp(`-> tcp 127\\.0\\.0\\.1:${other.port} up 4 B down 4 B .* principal=bob`),
      );
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});

// `socket2web access check FILE`: validates an access file and says which rule applies and why.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runProxyCommand } from "../helpers/proxy.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";

let dir: string;
let file: string;
beforeAll(async () => {
  dir = tempDir("socket2web-access-check-");
  file = join(dir, "access.toml");
  await Bun.write(
    file,
    [
      "[[rule]]",
      'name = "ops"',
      'claims = { groups = "ops" }',
      "max_sessions = 2",
      "",
      "[[rule]]",
      'principals = ["alice", "svc-*"]',
      'allow = ["10.0.0.0/8:22"]',
      'protocols = ["tcp"]',
      "",
      "[default]",
      "max_sessions = 1",
      "",
    ].join("\n"),
  );
});
afterAll(() => removeTempDir(dir));

test("prints the rule that applies and why; exit 0 when the target passes it, 1 when not", async () => {
  const allowed = await runProxyCommand([
    "access",
    "check",
    file,
    "--principal",
    "svc-backup",
    "--target",
    "10.0.0.5:22",
  ]);
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toContain("applies: rule 2 (line 6) svc-* matches svc-backup");
  expect(allowed.stdout).toContain('allow = ["10.0.0.0/8:22"]');
  const refused = await runProxyCommand([
    "access",
    "check",
    file,
    "--principal",
    "alice",
    "--target",
    "10.0.0.5:80",
  ]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain("refused: target 10.0.0.5:80 (tcp)");
  const claim = await runProxyCommand([
    "access",
    "check",
    file,
    "--principal",
    "bob",
    "--claim",
    "groups=dev",
    "--claim",
    "groups=ops",
  ]);
  expect(claim.stdout).toContain("applies: ops (line 1) claim groups holds ops");
  const fallback = await runProxyCommand(["access", "check", file, "--principal", "carol"]);
  expect(fallback.stdout).toContain("applies: no rule matches: [default]");
}, 30_000);

test("a file that does not validate: exit 2 with the line", async () => {
  const bad = join(dir, "bad.toml");
  await Bun.write(bad, '[[rule]]\nprincipals = ["a"]\n\nprotocols = ["gopher"]\n');
  const run = await runProxyCommand(["access", "check", bad, "--principal", "a"]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`${bad}:4: protocols: unknown name "gopher"`);
}, 30_000);

test("--print-config shows the loaded rules after the settings", async () => {
  const run = await runProxyCommand(["--print-config", "--access", file]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`access = "${file}"`);
  expect(run.stdout).toContain(`# access rules from ${file} (first match wins):`);
  expect(run.stdout).toContain('# rule 2 (line 6): principals ["alice","svc-*"]');
  expect(run.stdout).toContain("# [default]: everyone else\n#  max_sessions = 1");
}, 30_000);

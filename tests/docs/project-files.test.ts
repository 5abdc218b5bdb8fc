import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { userMakeEnv } from "../helpers/make-env.ts";

// The README, the Makefile and the operations guide against what they describe: the commands
// the CLI knows, the packages test-deps installs, the ports the image serves, the files a
// checkout makes.

const ROOT = join(import.meta.dir, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const run = (command: string[]) => {
  const result = Bun.spawnSync(command, { cwd: ROOT, env: userMakeEnv({ NO_COLOR: "1" }) });
  return { code: result.exitCode, out: result.stdout.toString() + result.stderr.toString() };
};

/** The README section under `## title`, up to the next `## `. */
function readmeSection(title: string): string {
  const readme = read("README.md");
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

test("the README's command table names every command `socket2web --help` lists", () => {
  const help = run([process.execPath, "run", "src/main.ts", "--help"]).out;
  const commands = [
    ...(help.split("COMMANDS")[1]?.split("EXAMPLES")[0] ?? "").matchAll(/^ {2}(\w+) /gm),
  ].map((match) => match[1]);
  expect(commands).toContain("probe");
  const table = readmeSection("Command line").split("```")[1] ?? "";
  for (const command of commands) {
    expect(table, command).toMatch(new RegExp(`^socket2web (\\[${command}\\]|${command}) `, "m"));
  }
});

test("the README's Development section names every package `make test-deps` installs", () => {
  const packages = new Set<string>();
  for (const script of readdirSync(join(ROOT, "tests", "setup")).filter((f) => f.endsWith(".sh"))) {
    const text = read(join("tests", "setup", script));
    for (const [, list = ""] of text.matchAll(
      /apt-get install -y --no-install-recommends ([^"$\n]+)/g,
    )) {
      for (const name of list.trim().split(/\s+/)) packages.add(name);
    }
    for (const [, name = ""] of text.matchAll(/missing\+=\(([\w.+-]+)\)/g)) packages.add(name);
  }
  expect(packages.size).toBeGreaterThan(10);
  const development = readmeSection("Development");
  for (const name of packages) expect(development, name).toContain(`\`${name}\``);
  // Every script is one that test-deps runs.
  const makefile = read("Makefile");
  for (const script of readdirSync(join(ROOT, "tests", "setup"))) {
    expect(makefile).toContain(`bash tests/setup/${script}`);
  }
});

test("the operations guide's `docker run` publishes every port the image exposes", () => {
  const exposed = /^EXPOSE (.+)$/m.exec(read("deploy/Dockerfile"))?.[1]?.split(/\s+/) ?? [];
  expect(exposed).toEqual(["8080", "9090"]);
  const command = /docker run (.*(?:\\\n.*)*)/.exec(read("docs/operations.md"))?.[1] ?? "";
  for (const port of exposed) expect(command).toMatch(new RegExp(`-p (\\S+:)?\\d+:${port}\\b`));
});

test("git ignores the capture folder of the examples and the npm pack tarball", () => {
  const { name, version } = JSON.parse(read("package.json"));
  const paths = ["captures/", "captures/session-1.pcapng", `${name}-${version}.tgz`];
  const ignored = run(["git", "check-ignore", "--no-index", ...paths])
    .out.trim()
    .split("\n");
  expect(ignored).toEqual(paths);
});

test("`make help` lists every target with one line saying what it does", () => {
  const phony = /^\.PHONY: (.+)$/m.exec(read("Makefile"))?.[1]?.split(/\s+/) ?? [];
  expect(phony).toContain("help");
  const help = run(["make", "--no-print-directory", "help"]);
  expect(help.code).toBe(0);
  const listed = new Map(
    help.out
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => /^ {2}(\S+) +(.+)$/.exec(line))
      .map((match) => [match?.[1], match?.[2]]),
  );
  expect([...listed.keys()].sort()).toEqual([...phony].sort());
  for (const [target, what] of listed) expect(what, target).toMatch(/\w/);
  // Plain `make` is the same list, not an install.
  expect(run(["make", "--no-print-directory"]).out).toBe(help.out);
});

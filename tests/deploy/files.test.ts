import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { RELEASE_TARGETS, SUMS_FILE } from "../../scripts/release-targets.ts";
import { buildRelease, DIST } from "../release/build.ts";

const ROOT = join(import.meta.dir, "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
const scratch = mkdtempSync(join(tmpdir(), "socket2web-deploy-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (command: string[], cwd = ROOT) => {
  const result = Bun.spawnSync(command, { cwd, env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.exitCode, out: result.stdout.toString() + result.stderr.toString() };
};

// --- Dockerfile -------------------------------------------------------------------------------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

const dockerfile = instructions(readFileSync(join(ROOT, "deploy", "Dockerfile"), "utf8"));
const stages = dockerfile.reduce<Instruction[][]>((all, instruction) => {
  if (instruction.keyword === "FROM") all.push([]);
  all.at(-1)?.push(instruction);
  return all;
}, []);
const finalStage = stages.at(-1) ?? [];
const exec = (keyword: string): string[] =>
  JSON.parse(
    finalStage.find((i) => i.keyword === keyword)?.args.replace(/^(--\S+\s+)*CMD\s+/, "") ?? "null",
  );

test("Dockerfile passes dockerfilelint", () => {
  const lint = run([join(BIN, "dockerfilelint"), "deploy/Dockerfile"]);
  expect(lint.out).toContain("Issues: None found");
  expect(lint.code).toBe(0);
});

test("Dockerfile: multi-stage, the final image holds the binary only and runs as non-root", () => {
  expect(stages.length).toBeGreaterThanOrEqual(2);
  expect(finalStage[0]?.args).toMatch(/^gcr\.io\/distroless\/cc-debian12:nonroot$/);
  const copies = finalStage.filter((i) => i.keyword === "COPY" || i.keyword === "ADD");
  expect(copies.map((c) => c.args)).toEqual([
    "--from=build /out/socket2web /usr/local/bin/socket2web",
  ]);
  expect(finalStage.some((i) => i.keyword === "RUN")).toBe(false);
  const user = finalStage.find((i) => i.keyword === "USER")?.args ?? "";
  expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  // Every file the build stage copies from the checkout exists.
  for (const copy of (stages[0] ?? []).filter((i) => i.keyword === "COPY")) {
    for (const source of copy.args.split(/\s+/).slice(0, -1)) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
  }
});

test("Dockerfile: binds 0.0.0.0 inside, serves metrics apart, and health-checks itself", () => {
  const entrypoint = exec("ENTRYPOINT");
  const command = exec("CMD");
  expect(entrypoint).toEqual(["/usr/local/bin/socket2web"]);
  expect(command.slice(command.indexOf("--ip"), command.indexOf("--ip") + 2)).toEqual([
    "--ip",
    "0.0.0.0",
  ]);
  expect(command).toContain("--metrics-listen");
  const healthcheck = finalStage.find((i) => i.keyword === "HEALTHCHECK")?.args ?? "";
  expect(healthcheck).toMatch(
    /CMD \["\/usr\/local\/bin\/socket2web", "probe", "http:\/\/127\.0\.0\.1:9090\/healthz"\]$/,
  );
});

test("Dockerfile compiles the binary the way `make build` does", () => {
  const makefile = readFileSync(join(ROOT, "Makefile"), "utf8");
  const makeFlags = /\$\(BUN\) build (.*) src\/main\.ts/.exec(makefile)?.[1];
  const build = dockerfile.find((i) => i.keyword === "RUN" && i.args.includes("build --compile"));
  expect(makeFlags).toBeDefined();
  expect(build?.args.replace(/\s+/g, " ")).toContain(`bun build ${makeFlags} src/main.ts`);
});

// --- systemd ----------------------------------------------------------------------------------

const UNIT = join(ROOT, "deploy", "socket2web.service");
const INSTALLED_BINARY = "/usr/local/bin/socket2web";

beforeAll(buildRelease, 180_000);

/** The unit as it would be installed, with ExecStart pointing at this checkout's binary. */
function unitForThisMachine(): string {
  const dir = mkdtempSync(join(scratch, "unit-"));
  const path = join(dir, "socket2web.service");
  const host = `socket2web-linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
  writeFileSync(path, readFileSync(UNIT, "utf8").replaceAll(INSTALLED_BINARY, join(DIST, host)));
  return path;
}

test("systemd unit: systemd-analyze verify has nothing to say", () => {
  const verify = run(["systemd-analyze", "verify", unitForThisMachine()]);
  expect(verify.out).toBe("");
  expect(verify.code).toBe(0);
  // The same check fails on a misspelt key: it is really reading the unit.
  const broken = unitForThisMachine();
  writeFileSync(broken, readFileSync(broken, "utf8").replace("RestartSec=", "RestartSecs="));
  expect(run(["systemd-analyze", "verify", broken]).out).toContain("Unknown key 'RestartSecs'");
});

test("systemd unit: hardened (exposure rated OK), low port by capability, reload by SIGHUP", () => {
  const security = run(["systemd-analyze", "security", "--offline=yes", unitForThisMachine()]);
  const exposure = Number(
    /Overall exposure level for socket2web\.service: ([\d.]+)/.exec(security.out)?.[1],
  );
  expect(exposure).toBeLessThan(3);
  const unit = readFileSync(UNIT, "utf8");
  for (const line of [
    "AmbientCapabilities=CAP_NET_BIND_SERVICE",
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
    "DynamicUser=yes",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ExecReload=/bin/kill -HUP $MAINPID",
  ]) {
    expect(unit.split("\n")).toContain(line);
  }
  // The JIT needs writable-and-executable memory.
  expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
});

// --- CI workflow ------------------------------------------------------------------------------

const WORKFLOW = join(ROOT, ".github", "workflows", "ci.yml");

test("CI workflow passes action-validator", () => {
  const check = run([join(BIN, "action-validator"), WORKFLOW]);
  expect(check.out).toBe("");
  expect(check.code).toBe(0);
});

test("CI workflow: make test on every push; on a tag, make release and attach every file", () => {
  const workflow = parse(readFileSync(WORKFLOW, "utf8"));
  const steps = (job: string): string[] =>
    workflow.jobs[job].steps.map((step: { run?: string }) => step.run ?? "");
  expect(steps("test")).toContain("make test");
  const release = workflow.jobs.release;
  expect(release.if).toBe("startsWith(github.ref, 'refs/tags/v')");
  expect(release.needs).toBe("test");
  expect(workflow.on.push.tags).toEqual(["v*"]);
  const script = steps("release").join("\n");
  expect(script).toContain("make release");
  expect(script).toContain("sha256sum -c SHA256SUMS");
  const upload = script.slice(script.indexOf("gh release create"));
  for (const file of [
    ...RELEASE_TARGETS.map((t) => `dist/${t.file}`),
    `dist/${SUMS_FILE}`,
    "install.sh",
  ]) {
    expect(upload).toContain(file);
  }
});

// --- the deploy files' commands, run for real -------------------------------------------------

const hostBinary = () =>
  join(DIST, `socket2web-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);

async function freePorts(count: number): Promise<number[]> {
  const listeners = Array.from({ length: count }, () =>
    Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }),
  );
  const ports = listeners.map((listener) => listener.port);
  for (const listener of listeners) listener.stop(true);
  return ports;
}

test("the image's CMD serves, and its HEALTHCHECK command passes against it (then fails once it stops)", async () => {
  const [proxyPort, metricsPort] = await freePorts(2);
  // The image's arguments, on loopback and free ports instead of 0.0.0.0:8080/9090.
  const args = exec("CMD").map((arg) =>
    arg
      .replace(/^0\.0\.0\.0$/, "127.0.0.1")
      .replace(/^8080$/, String(proxyPort))
      .replace(/^0\.0\.0\.0:9090$/, `127.0.0.1:${metricsPort}`),
  );
  const server = Bun.spawn([hostBinary(), ...args], { stdout: "pipe", stderr: "pipe" });
  let output = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of server.stdout) output += decoder.decode(chunk, { stream: true });
  })();
  try {
    for (let i = 0; i < 500 && !output.includes("health and readiness on"); i++)
      await Bun.sleep(20);
    expect(output).toContain(`"listen":"ws://127.0.0.1:${proxyPort}"`);
    const healthcheck = JSON.parse(
      (finalStage.find((i) => i.keyword === "HEALTHCHECK")?.args ?? "").replace(/^.*CMD /, ""),
    ) as string[];
    const [, ...probeArgs] = healthcheck.map((arg) => arg.replace(":9090/", `:${metricsPort}/`));
    const healthy = run([hostBinary(), ...probeArgs]);
    expect(healthy.out.trim()).toBe(`http://127.0.0.1:${metricsPort}/healthz: HTTP 200`);
    expect(healthy.code).toBe(0);
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    const down = run([hostBinary(), ...probeArgs]);
    expect(down.code).toBe(1);
    expect(down.out).toContain("socket2web probe:");
  } finally {
    server.kill("SIGKILL");
  }
}, 60_000);

test("the Kubernetes ConfigMap's TOML and Secret, and the systemd unit's flags, are accepted by the server", async () => {
  const configMap = parse(
    readFileSync(join(ROOT, "deploy", "kubernetes", "configmap.yaml"), "utf8"),
  );
  const secret = parse(readFileSync(join(ROOT, "deploy", "kubernetes", "secret.yaml"), "utf8"));
  const file = join(scratch, "socket2web.toml");
  writeFileSync(file, configMap.data["socket2web.toml"]);
  const exec = readFileSync(UNIT, "utf8").match(/^ExecStart=\S+ (.*)$/m)?.[1] ?? "";
  // The unit reads systemd's copy of /etc/socket2web/socket2web.toml (LoadCredential=, %d).
  const unitArgs = exec.split(" ").map((arg) => (arg === "%d/socket2web.toml" ? file : arg));
  expect(unitArgs).toContain(file);
  const printed = Bun.spawnSync([hostBinary(), ...unitArgs, "--print-config"], {
    env: { ...process.env, SOCKET2WEB_TICKET_SECRET: secret.stringData["ticket-secret"] },
  });
  expect(printed.stderr.toString()).toBe("");
  expect(printed.exitCode).toBe(0);
  const text = printed.stdout.toString();
  expect(text).toContain('metrics-listen = "0.0.0.0:9090"');
  expect(text).toContain('log-format = "json"');
  expect(text).toMatch(/ticket-secret = "\*+"/);
});

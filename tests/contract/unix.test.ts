import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../helpers/tls-cert.ts";
import { openClient } from "../helpers/ws-client.ts";
import { openSession, testAdapter } from "./adapter.ts";
import { type ContractProxy, startContractProxy } from "./proxy.ts";
import { startStreamTarget } from "./targets.ts";

// root/allowed is the --allow-unix prefix; root/outside holds what must never be reached.
let root = "";
let allowed = "";
let outside = "";
let sockets = 0;
const socketPath = (dir: string) => join(dir, `s${++sockets}.sock`);

testAdapter({
  protocol: "unix",
  transport: "stream",
  fields: [{ name: "target_path" }],
  async setup() {
    root = tempDir("s2w-unix-");
    allowed = join(root, "allowed");
    outside = join(root, "outside");
    mkdirSync(allowed);
    mkdirSync(outside);
    return { allowUnix: [allowed] };
  },
  async teardown() {
    rmSync(root, { recursive: true, force: true });
  },
  async startTarget(mode) {
    const path = socketPath(allowed);
    const target = startStreamTarget({ unix: path }, mode);
    return { ...target, fields: { target_path: path } };
  },
  async refusedFields() {
    // A file that is not a listening socket: the connect is refused.
    const path = join(allowed, "not-listening.sock");
    writeFileSync(path, "");
    return { target_path: path };
  },
  refusal: { kind: "status", reason: /^connect ECONNREFUSED .*not-listening\.sock$/ },
  invalid: [
    ["target_path", "", "target_path must not be empty"],
    ["target_path", "/run/a\u0000b", "must not contain a NUL character"],
    ["target_path", `/${"x".repeat(120)}`, "longer than 107 bytes"],
  ],
});

describe("unix: its own cases", () => {
  let proxy: ContractProxy;
  let outsideTarget: ReturnType<typeof startStreamTarget>;
  let outsidePath = "";
  beforeAll(async () => {
    proxy = await startContractProxy({ allowUnix: [allowed] });
    outsidePath = join(outside, "outside.sock");
    outsideTarget = startStreamTarget({ unix: outsidePath }, "echo");
    symlinkSync(outsidePath, join(allowed, "escape.sock"));
    symlinkSync(outside, join(allowed, "outdir"));
  });
  afterAll(async () => {
    await outsideTarget.stop();
    await proxy.stop();
  });

  test.each([
    ["PREFIX/../outside/outside.sock", () => `${allowed}/../outside/outside.sock`],
    ["a symlink inside the prefix pointing outside", () => join(allowed, "escape.sock")],
    ["a path through a linked directory", () => join(allowed, "outdir", "outside.sock")],
    ["a path outside every prefix", () => outsidePath],
    ["a relative path that leads outside", () => relative(process.cwd(), outsidePath)],
  ])("%s is forbidden and never connected", async (_, path) => {
    const { client, status } = await openSession(proxy.url, {
      protocol: "unix",
      target_path: path(),
    });
    expect(status).toMatchObject({ status: "error", error: "forbidden" });
    expect(await client.closed).toEqual({ code: 4403, reason: "forbidden" });
    expect(outsideTarget.peers()).toBe(0);
  });

  test("a symlink inside the prefix to a socket inside it is followed", async () => {
    const target = startStreamTarget({ unix: socketPath(allowed) }, "echo");
    const link = join(allowed, "alias.sock");
    symlinkSync(join(allowed, `s${sockets}.sock`), link);
    try {
      const { client, status } = await openSession(proxy.url, {
        protocol: "unix",
        target_path: link,
      });
      expect(status).toEqual({ status: "connected", protocol: "unix", target_path: link });
      client.send("ping");
      expect(new TextDecoder().decode(await client.readBytes(4))).toBe("ping");
      client.close();
    } finally {
      await target.stop();
    }
  });

  test("a missing socket inside the prefix is connect_failed, naming ENOENT", async () => {
    const { status } = await openSession(proxy.url, {
      protocol: "unix",
      target_path: join(allowed, "missing.sock"),
    });
    expect(status).toMatchObject({ status: "error", error: "connect_failed" });
    expect(String(status.reason)).toStartWith("ENOENT ");
  });

  test("without --allow-unix, unix is not greeted and gets unsupported_protocol", async () => {
    const off = await startContractProxy({});
    try {
      const client = await openClient(off.url);
      const greeting = await client.nextJson();
      expect(Object.keys(greeting["supported protocols"] as object)).not.toContain("unix");
      client.send(JSON.stringify({ protocol: "unix", target_path: join(allowed, "s1.sock") }));
      expect(await client.nextJson()).toMatchObject({
        status: "error",
        error: "unsupported_protocol",
      });
      expect(await client.closed).toEqual({ code: 4400, reason: "unsupported_protocol" });
    } finally {
      await off.stop();
    }
  });
});

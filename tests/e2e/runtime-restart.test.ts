import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { startProxy } from "../helpers/proxy.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { connectThrough } from "../helpers/ws-client.ts";

const entriesOf = (pid: number, file: "environ" | "cmdline") =>
  readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0").filter(Boolean);

const UNSET = { MIMALLOC_PURGE_DELAY: undefined, BUN_JSC_useFTLJIT: undefined };

test("started without its runtime settings, the server restarts itself in place with them: same PID, arguments and pipes, and it serves", async () => {
  const echo = startTcpTarget("echo");
  const proxy = await startProxy(["--max-connections", "7"], UNSET);
  const { pid } = proxy.proc;
  const environ = entriesOf(pid, "environ");
  expect(environ).toContain("MIMALLOC_PURGE_DELAY=1000");
  expect(environ).toContain("BUN_JSC_useFTLJIT=false");
  expect(entriesOf(pid, "cmdline").slice(-2)).toEqual(["--max-connections", "7"]);
  // Printed through the pipes the test gave the first image, once: that image never served.
  expect(proxy.output()).toContain("max 7 connections");
  expect(proxy.output().match(/listening on/g)).toHaveLength(1);
  const { client, status } = await connectThrough(proxy.url, {
    protocol: "tcp",
    target_ip: "127.0.0.1",
    target_port: echo.port,
  });
  expect(status.status).toBe("connected");
  client.send("after the restart");
  expect(new TextDecoder().decode(await client.readBytes(17))).toBe("after the restart");
  client.close(1000);
  expect(await proxy.stop()).toBe(0);
  echo.stop();
});

test("a setting in the environment is the operator's choice: kept as given, the other still added", async () => {
  const proxy = await startProxy([], { ...UNSET, MIMALLOC_PURGE_DELAY: "100" });
  const environ = entriesOf(proxy.proc.pid, "environ");
  expect(environ).toContain("MIMALLOC_PURGE_DELAY=100");
  expect(environ).not.toContain("MIMALLOC_PURGE_DELAY=1000");
  expect(environ).toContain("BUN_JSC_useFTLJIT=false");
  expect(await proxy.stop()).toBe(0);
});

test("with every setting given, the environment is the operator's as it was", async () => {
  const proxy = await startProxy([], { MIMALLOC_PURGE_DELAY: "-1", BUN_JSC_useFTLJIT: "true" });
  const environ = entriesOf(proxy.proc.pid, "environ");
  const settings = environ.filter((entry) =>
    /^(MIMALLOC_PURGE_DELAY|BUN_JSC_useFTLJIT)=/.test(entry),
  );
  expect(settings.sort()).toEqual(["BUN_JSC_useFTLJIT=true", "MIMALLOC_PURGE_DELAY=-1"]);
  expect(await proxy.stop()).toBe(0);
});

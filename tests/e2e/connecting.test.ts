import { expect, test } from "bun:test";
import { startBlackhole } from "../helpers/blackhole.ts";
import { startProxy } from "../helpers/proxy.ts";
import { openClient } from "../helpers/ws-client.ts";

test("a client that closes while the target is still opening: the target still gets its bytes, then end", async () => {
  const blackhole = await startBlackhole();
  const proxy = await startProxy(["--connect-timeout", "8"]);
  const client = await openClient(proxy.url);
  await client.nextJson();
  client.send(
    JSON.stringify({ protocol: "tcp", target_ip: "127.0.0.1", target_port: blackhole.port }),
  );
  client.send("sent before the target accepted");
  await Bun.sleep(200);
  client.close(1000);
  expect((await client.closed).code).toBe(1000);

  // Now the listener accepts; the proxy's connect goes through on its next SYN and delivers.
  blackhole.acceptAll();
  const expected = Buffer.from("sent before the target accepted").toString("hex");
  const deadline = Date.now() + 8000;
  while (!blackhole.finished().includes(expected) && Date.now() < deadline) await Bun.sleep(20);
  expect(blackhole.finished()).toContain(expected);
  await proxy.stop();
  await blackhole.stop();
}, 15_000);

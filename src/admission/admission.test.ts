import { afterAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { createConsola, LogLevels } from "consola";
import { tcp } from "../adapters/tcp.ts";
import type { TargetEvents } from "../adapters/types.ts";
import { udp } from "../adapters/udp.ts";
import { parseAccessFile } from "../auth/access-file.ts";
import type { AccessRules } from "../auth/access-rules.ts";
import { createCredentialCheck, type Grant } from "../auth/credentials.ts";
import { createOriginCheck } from "../auth/origin.ts";
import { createClientAddressResolver } from "../net/client-address.ts";
import type { ProxyProtocolVersion } from "../net/proxy-protocol.ts";
import { mapResolver } from "../net/resolver.ts";
import { createPolicy } from "../policy/policy.ts";
import { localAddressLimits } from "../state/address-limits.ts";
import { createAdmission, type ReachRequest } from "./admission.ts";
import { createPrincipalAccess } from "./principal-access.ts";
import { Refusal } from "./refusal.ts";
import { createSlots } from "./slots.ts";

// Which PROXY protocol header a reached target gets (the target's setting, else a ticket's claim,
// else the server default), on a real loopback connection: the target records its first bytes.

let arrived: ((text: string) => void) | undefined;
const target = Bun.listen<undefined>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(_socket: Socket<undefined>, chunk) {
      arrived?.(new TextDecoder("latin1").decode(chunk));
    },
  },
});
afterAll(() => target.stop(true));

const events: TargetEvents = { data() {}, drain() {}, end() {}, error() {} };
const CLIENT = { label: "10.1.2.3:4567", address: "10.1.2.3", port: 4567 };

function admission(serverDefault?: ProxyProtocolVersion, rules?: AccessRules) {
  return createAdmission({
    origin: createOriginCheck({ allow: [], require: false }),
    credentials: createCredentialCheck({}),
    clientAddress: createClientAddressResolver([]),
    slots: createSlots({
      maxConnections: 10,
      addresses: localAddressLimits({ rate: 0, burst: 0, maxPerAddress: 0 }),
    }),
    policy: createPolicy({ allow: [], deny: [] }),
    access: createPrincipalAccess(rules, createPolicy({ allow: [], deny: [] })),
    resolver: mapResolver({ "app.test": ["127.0.0.1"] }),
    connectTimeout: 5,
    proxyProtocol: serverDefault,
    accepting: () => true,
    logger: createConsola({ level: LogLevels.silent }),
  });
}

/** Reaches the target, writes `hello`, and returns what the target read first. */
async function received(
  serverDefault: ProxyProtocolVersion | undefined,
  request: Partial<ReachRequest>,
  rules?: AccessRules,
): Promise<string> {
  const next = new Promise<string>((resolve) => {
    let text = "";
    arrived = (chunk) => {
      text += chunk;
      if (text.endsWith("hello")) resolve(text);
    };
  });
  const reached = await admission(serverDefault, rules).reach(
    {
      adapter: tcp,
      target: tcp.parse({ target_ip: "app.test", target_port: target.port }),
      grant: { ok: true, kind: "anonymous" },
      token: undefined,
      client: CLIENT,
      sessionId: 42,
      ...request,
      frontEnd: "socket2web",
    },
    events,
    new AbortController(),
  );
  reached.connection.write(new TextEncoder().encode("hello"));
  const text = await next;
  reached.connection.destroy();
  return text;
}

const ticket = (proxyProtocol: "v1" | "v2" | "off"): Grant => ({
  ok: true,
  kind: "ticket",
  pins: { proxyProtocol },
});

/** An access file whose one rule gives every principal this PROXY protocol setting. */
const ruleSaying = (setting: "v1" | "v2" | "off") =>
  parseAccessFile(`[[rule]]\nprincipals = ["*"]\nproxy_protocol = "${setting}"\n`, "access.toml", {
    protocols: ["tcp", "udp"],
    frontEnds: ["socket2web", "raw", "wisp"],
  });

describe("the PROXY protocol header a target gets", () => {
  test("an access rule's proxy_protocol: over the server default, under a route's own setting", async () => {
    expect(await received(undefined, {}, ruleSaying("v1"))).toStartWith("PROXY TCP4 10.1.2.3 ");
    expect(await received("v1", {}, ruleSaying("off"))).toBe("hello");
    expect(await received(undefined, { proxyProtocol: "off" }, ruleSaying("v1"))).toBe("hello");
  });

  test("none unless configured: the client's bytes only", async () => {
    expect(await received(undefined, {})).toBe("hello");
  });

  test("the server default, naming the client and the address connected to", async () => {
    expect(await received("v1", {})).toBe(
      `PROXY TCP4 10.1.2.3 127.0.0.1 4567 ${target.port}\r\nhello`,
    );
  });

  test("v2 carries the name the client asked for and the session id", async () => {
    const text = await received("v2", {});
    expect(text.startsWith("\r\n\r\n\0\r\nQUIT\n")).toBe(true);
    expect(text).toContain("\x02\x00\x08app.test");
    expect(text).toContain("\x05\x00\x0242");
    expect(text.endsWith("hello")).toBe(true);
  });

  test("a ticket's claim wins over the server default; the target's own setting over both", async () => {
    expect(await received("v2", { grant: ticket("v1") })).toStartWith("PROXY TCP4 ");
    expect(await received(undefined, { grant: ticket("off"), proxyProtocol: "v1" })).toStartWith(
      "PROXY TCP4 ",
    );
    expect(await received("v1", { grant: ticket("off") })).toBe("hello");
    expect(await received("v1", { proxyProtocol: "off" })).toBe("hello");
  });

  test("an unknown client: PROXY UNKNOWN", async () => {
    expect(await received("v1", { client: undefined })).toBe("PROXY UNKNOWN\r\nhello");
  });

  test("udp is refused before anything is resolved or opened", async () => {
    const reaching = admission("v2").reach(
      {
        adapter: udp,
        target: udp.parse({ target_ip: "127.0.0.1", target_port: target.port }),
        grant: { ok: true, kind: "anonymous" },
        token: undefined,
        frontEnd: "socket2web",
      },
      events,
      new AbortController(),
    );
    const error = await reaching.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Refusal);
    expect(error).toMatchObject({ code: "unsupported_protocol" });
    expect((error as Refusal).message).toBe(
      "a PROXY protocol header is configured for this session, and udp targets cannot take one",
    );
  });
});

// The front-end conformance suite: every way a client reaches a target (Socket2Web's own
// protocol, raw websockify-style sessions, wsproxy, Wisp) passes the same admission, limits,
// clocks, capture, metrics and logs. It runs against the real process (startProxy, or the
// compiled binary with SOCKET2WEB_BIN), with real loopback targets that count what they accept.
// Each tests/frontends/<variant>.test.ts calls `frontEndConformance(driver)`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { SignJWT } from "jose";
import { randomBytes } from "../helpers/bytes.ts";
import { type RunningProxy, startProxy } from "../helpers/proxy.ts";
import { startTcpTarget, type TcpTarget } from "../helpers/targets.ts";
import { removeTempDir, tempDir } from "../helpers/tls-cert.ts";
import { followTcp, tsharkMissing } from "../helpers/tshark.ts";
import type {
  ConfigurationContext,
  FrontEndDriver,
  FrontEndSession,
  Outcome,
  Signal,
  TargetRef,
  Transport,
} from "./driver.ts";

/** The HS256 secret of every configuration's --ticket-secret-file. */
export const TICKET_SECRET = "front-end-conformance-ticket-secret-32+";
const STATIC_TOKEN = "conformance-static-token-1";
const GOOD_ORIGIN = "https://good.example";
/** The largest datagram to an IPv4 target is 65,507 bytes: one more closes the session. */
const OVERSIZED_DATAGRAM = 65_508;

/** A ticket for `claims`, valid for five minutes (`secret` other than the server's: forged). */
export function mintTicket(
  claims: Record<string, unknown>,
  secret = TICKET_SECRET,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
    .sign(new TextEncoder().encode(secret));
}

/** Writes the ticket secret into `dir` and returns the file (the server drops its final newline). */
export async function ticketSecretFile(dir: string): Promise<string> {
  const file = join(dir, "ticket-secret");
  await Bun.write(file, `${TICKET_SECRET}\n`);
  return file;
}

type TargetKind = "echo" | "reply-and-end" | "udp-echo";

interface RunningTarget {
  readonly ref: TargetRef;
  /** Counts accepted connections (TCP echo targets only). */
  readonly tcp?: TcpTarget;
  stop(): void;
}

async function startTarget(name: string, kind: TargetKind): Promise<RunningTarget> {
  if (kind === "echo") {
    const tcp = startTcpTarget("echo");
    return { ref: { name, port: tcp.port, transport: "tcp" }, tcp, stop: () => tcp.stop() };
  }
  if (kind === "reply-and-end") {
    // Sends back the first bytes it reads, then ends its stream: the session closes from the target.
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket: Socket, data) {
          socket.write(data);
          socket.end();
        },
        error() {},
      },
    });
    return {
      ref: { name, port: listener.port, transport: "tcp" },
      stop: () => listener.stop(true),
    };
  }
  const udp = await Bun.udpSocket({
    hostname: "127.0.0.1",
    socket: {
      data(socket, data, port, address) {
        socket.send(data, port, address);
      },
    },
  });
  return { ref: { name, port: udp.port, transport: "udp" }, stop: () => udp.close() };
}

interface Configuration {
  readonly proxy: RunningProxy;
  readonly dir: string;
  target(name: string): TargetRef;
  /** The connection counter of a TCP echo target. */
  counter(name: string): TcpTarget;
}

/**
 * One proxy process for the tests of the enclosing describe block: its targets start first (a
 * route must name them), then the proxy with the driver's flags and the configuration's own.
 */
function useConfiguration(
  driver: FrontEndDriver,
  targets: Record<string, TargetKind>,
  flags: (context: ConfigurationContext & { readonly driverArgs: string[] }) => Promise<string[]>,
): Configuration {
  let proxy: RunningProxy | undefined;
  let dir: string | undefined;
  const running = new Map<string, RunningTarget>();
  beforeAll(async () => {
    dir = tempDir("socket2web-frontends-");
    for (const [name, kind] of Object.entries(targets)) {
      running.set(name, await startTarget(name, kind));
    }
    const context = { targets: [...running.values()].map((t) => t.ref), dir };
    const driverArgs = await driver.args(context);
    proxy = await startProxy([...driverArgs, ...(await flags({ ...context, driverArgs }))]);
  }, 20_000);
  afterAll(async () => {
    await proxy?.stop();
    for (const target of running.values()) target.stop();
    removeTempDir(dir);
  });
  const found = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`configuration: no ${what}`);
    return value;
  };
  return {
    get proxy() {
      return found(proxy, "proxy (used outside a test?)");
    },
    get dir() {
      return found(dir, "directory");
    },
    target: (name) => found(running.get(name), `target ${name}`).ref,
    counter: (name) => found(running.get(name)?.tcp, `echo target ${name}`),
  };
}

function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The session works: it opened and carries bytes both ways (an echo round trip). */
async function works(outcome: Outcome): Promise<FrontEndSession> {
  if (!outcome.opened) {
    throw new Error(`expected an open session, got the refusal ${JSON.stringify(outcome.signal)}`);
  }
  const data = randomBytes(16);
  outcome.session.send(data);
  expect(Buffer.from(await outcome.session.read(data.byteLength))).toEqual(Buffer.from(data));
  return outcome.session;
}

/** How an attempt was refused: before or at its opening, or by a close right after it. */
async function refusal(outcome: Outcome): Promise<Signal> {
  if (!outcome.opened) return outcome.signal;
  return bounded(outcome.session.closed, 10_000, "the refused session to close");
}

async function closeAndWait(session: FrontEndSession): Promise<void> {
  session.close();
  await bounded(session.closed, 10_000, "the session to close");
}

/**
 * Connections the target accepted since `before`. Every front end decides before it connects,
 * and a raw session connects before it answers the upgrade, so any connection a refusal made
 * was started before the client saw the refusal; connectionsSoFar counts up to its marker.
 */
async function connectionsSince(target: TcpTarget, before: number): Promise<number> {
  return (await target.connectionsSoFar()) - before;
}

/** The labels of a Prometheus series key such as `name{a="1",b="2"}`. */
function labelsOf(series: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of series.matchAll(/(\w+)="([^"]*)"/g))
    labels[match[1] as string] = match[2] as string;
  return labels;
}

/** Series of `name` in an exposition, with their labels and values. */
function seriesOf(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => ({
      labels: labelsOf(line.slice(0, line.lastIndexOf(" "))),
      value: Number(line.slice(line.lastIndexOf(" ") + 1)),
    }));
}

async function scrape(proxy: RunningProxy): Promise<string> {
  return (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text();
}

/** Capture files for the target on `port`: `TIME-PID-SESSION-PROTOCOL-TARGET-PORT.pcapng`. */
function capturesFor(dir: string, port: number): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(`-${port}.pcapng`))
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** The log lines of sessions to the target on `port` (text format). */
function sessionLines(output: string, transport: Transport, port: number): string[] {
  return output
    .split("\n")
    .filter(
      (line) => / session \d+ /.test(line) && line.includes(`-> ${transport} 127.0.0.1:${port} `),
    );
}

/** The JSON log objects of sessions to the target on `port`. */
function sessionRecords(output: string, port: number): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.target === `127.0.0.1:${port}` && "close_code" in record) records.push(record);
    } catch {
      // A line that is not one object is not a session's record.
    }
  }
  return records;
}

/** The shared suite: registers every case for `driver`'s front end. */
export function frontEndConformance(driver: FrontEndDriver): void {
  const carries = (transport: Transport) => driver.transports.includes(transport);
  const ticketFor = (target: TargetRef, claims: Record<string, unknown> = {}, secret?: string) =>
    mintTicket({ ...driver.ticketClaims?.(target), ...claims }, secret);

  describe(`${driver.variant}: policy, Origin, capture, metrics, log`, () => {
    const config = useConfiguration(
      driver,
      {
        echo: "echo",
        denied: "echo",
        capture: "echo",
        logged: "reply-and-end",
        udp: "udp-echo",
      },
      async ({ targets, dir }) => [
        "--deny",
        `127.0.0.1:${targets.find((t) => t.name === "denied")?.port}`,
        "--allow-origin",
        GOOD_ORIGIN,
        "--metrics",
        "--capture",
        join(dir, "captures"),
      ],
    );

    test("a target the policy denies is refused, and the target sees no connection", async () => {
      const denied = config.counter("denied");
      const before = await denied.connectionsSoFar();
      const outcome = await driver.open(config.proxy, config.target("denied"));
      expect(await refusal(outcome)).toEqual(driver.signals.forbidden);
      expect(await connectionsSince(denied, before)).toBe(0);
    }, 20_000);

    test.skipIf(driver.cannot?.origin !== undefined)(
      "a wrong Origin is refused with 403 and opens nothing; an allowed one works",
      async () => {
        const echo = config.counter("echo");
        const before = await echo.connectionsSoFar();
        const wrong = await driver.open(config.proxy, config.target("echo"), {
          origin: "https://evil.example",
        });
        expect(await refusal(wrong)).toEqual({ http: 403 });
        expect(await connectionsSince(echo, before)).toBe(0);
        const allowed = await driver.open(config.proxy, config.target("echo"), {
          origin: GOOD_ORIGIN,
        });
        await closeAndWait(await works(allowed));
      },
      20_000,
    );

    test.skipIf(tsharkMissing())(
      "--capture writes one pcapng file for the session, which tshark reads back as the bytes exchanged",
      async () => {
        const target = config.target("capture");
        const dir = join(config.dir, "captures");
        const outcome = await driver.open(config.proxy, target);
        if (!outcome.opened) throw new Error(`refused: ${JSON.stringify(outcome.signal)}`);
        const data = randomBytes(300);
        outcome.session.send(data);
        expect(Buffer.from(await outcome.session.read(data.byteLength))).toEqual(Buffer.from(data));
        await closeAndWait(outcome.session);
        // The file is written in the background: read it until it holds both directions (bounded).
        const deadline = Date.now() + 8000;
        let followed: { client: Uint8Array; server: Uint8Array } | undefined;
        while (Date.now() < deadline) {
          const [file] = capturesFor(dir, target.port);
          if (file) {
            followed = await followTcp(file).catch(() => undefined);
            if (followed && followed.server.byteLength >= data.byteLength) break;
          }
          await Bun.sleep(100);
        }
        expect(capturesFor(dir, target.port)).toHaveLength(1);
        expect(Buffer.from(followed?.client ?? [])).toEqual(Buffer.from(data));
        expect(Buffer.from(followed?.server ?? [])).toEqual(Buffer.from(data));
      },
      20_000,
    );

    test("one info line per session: frontend=NAME, client, target, bytes each way, close code", async () => {
      const target = config.target("logged");
      const outcome = await driver.open(config.proxy, target);
      if (!outcome.opened) throw new Error(`refused: ${JSON.stringify(outcome.signal)}`);
      outcome.session.send(new TextEncoder().encode("ping!"));
      expect(new TextDecoder().decode(await outcome.session.read(5))).toBe("ping!");
      expect(await bounded(outcome.session.closed, 10_000, "the target's end")).toEqual(
        driver.signals.targetEnded,
      );
      await config.proxy.waitForOutput((text) => sessionLines(text, "tcp", target.port).length > 0);
      const lines = sessionLines(config.proxy.output(), "tcp", target.port);
      expect(lines).toHaveLength(1);
      const line = lines[0] as string;
      expect(line).toMatch(/ 127\.0\.0\.1:\d+ /);
      expect(line).toContain(" up 5 B down 5 B ");
      expect(line).toContain(" close 1000");
      expect(line).toContain(`frontend=${driver.frontend}`);
    }, 20_000);

    test(`metrics: socket2web_sessions_total carries frontend="${driver.frontend}"`, async () => {
      await closeAndWait(await works(await driver.open(config.proxy, config.target("echo"))));
      // The client sees its close before the proxy has finished the session (bounded wait).
      let text = await scrape(config.proxy);
      for (let i = 0; i < 100; i++) {
        if (seriesOf(text, "socket2web_sessions_active")[0]?.value === 0) break;
        await Bun.sleep(50);
        text = await scrape(config.proxy);
      }
      const sessions = seriesOf(text, "socket2web_sessions_total");
      expect(sessions.length).toBeGreaterThan(0);
      const ours = sessions.filter((s) => s.labels.frontend === driver.frontend);
      expect(ours.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThan(0);
    }, 20_000);

    test.skipIf(driver.cannot?.origin !== undefined)(
      `metrics: socket2web_refused_total carries frontend="${driver.frontend}"`,
      async () => {
        const refused = await driver.open(config.proxy, config.target("echo"), {
          origin: "https://evil.example",
        });
        expect(await refusal(refused)).toEqual({ http: 403 });
        const refusals = seriesOf(await scrape(config.proxy), "socket2web_refused_total").filter(
          (s) => s.labels.reason === "origin",
        );
        expect(refusals.length).toBeGreaterThan(0);
        const ours = refusals.filter((s) => s.labels.frontend === driver.frontend);
        expect(ours).toHaveLength(1);
        expect(ours[0]?.value).toBeGreaterThan(0);
      },
      20_000,
    );

    test.skipIf(!carries("udp"))(
      "udp: a datagram over the limit closes the session (1009), with --capture",
      async () => {
        const session = await works(await driver.open(config.proxy, config.target("udp")));
        session.send(new Uint8Array(OVERSIZED_DATAGRAM));
        expect(await bounded(session.closed, 10_000, "the close")).toEqual(
          driver.signals.tooBig ?? { close: 1009 },
        );
      },
      20_000,
    );
  });

  describe(`${driver.variant}: --log-format json`, () => {
    const config = useConfiguration(
      driver,
      { logged: "reply-and-end", udp: "udp-echo" },
      async () => ["--log-format", "json"],
    );

    test('the session\'s record has a "frontend" field beside client, target, bytes and close code', async () => {
      const target = config.target("logged");
      const outcome = await driver.open(config.proxy, target);
      if (!outcome.opened) throw new Error(`refused: ${JSON.stringify(outcome.signal)}`);
      outcome.session.send(new TextEncoder().encode("ping!"));
      await outcome.session.read(5);
      await bounded(outcome.session.closed, 10_000, "the target's end");
      await config.proxy.waitForOutput((text) => sessionRecords(text, target.port).length > 0);
      const records = sessionRecords(config.proxy.output(), target.port);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        level: "info",
        client: expect.stringMatching(/^127\.0\.0\.1/),
        target: `127.0.0.1:${target.port}`,
        bytes_from_client: 5,
        bytes_from_target: 5,
        close_code: 1000,
        frontend: driver.frontend,
      });
    }, 20_000);

    test.skipIf(!carries("udp"))(
      "udp: a datagram over the limit closes the session (1009), without --capture",
      async () => {
        const session = await works(await driver.open(config.proxy, config.target("udp")));
        session.send(new Uint8Array(OVERSIZED_DATAGRAM));
        expect(await bounded(session.closed, 10_000, "the close")).toEqual(
          driver.signals.tooBig ?? { close: 1009 },
        );
      },
      20_000,
    );
  });

  /** A second session while the first holds the only place: 1013, and no connection for it. */
  const secondIsRefused = (flags: string[]) => () => {
    const config = useConfiguration(driver, { echo: "echo" }, async () => flags);
    test(`${flags.join(" ")}: a second concurrent session is closed with 1013 and never reaches the target`, async () => {
      const echo = config.counter("echo");
      const before = await echo.connectionsSoFar();
      const first = await works(await driver.open(config.proxy, config.target("echo")));
      const second = await driver.open(config.proxy, config.target("echo"));
      expect(await refusal(second)).toEqual({ close: 1013 });
      expect(await connectionsSince(echo, before)).toBe(1);
      await closeAndWait(first);
    }, 20_000);
  };
  describe(
    `${driver.variant}: --max-connections-per-ip`,
    secondIsRefused(["--max-connections-per-ip", "1"]),
  );
  describe(`${driver.variant}: --max-connections`, secondIsRefused(["--max-connections", "1"]));

  describe(`${driver.variant}: --rate-limit`, () => {
    // A burst of exactly one session's tokens; one token a second comes back, far slower than
    // the second attempt follows the first.
    const burst = String(driver.rateTokensPerSession ?? 1);
    const config = useConfiguration(driver, { echo: "echo" }, async () => [
      "--rate-limit",
      "1",
      "--rate-limit-burst",
      burst,
    ]);
    test("past the burst a session is closed with 1013 and never reaches the target", async () => {
      const echo = config.counter("echo");
      const before = await echo.connectionsSoFar();
      const first = await works(await driver.open(config.proxy, config.target("echo")));
      const second = await driver.open(config.proxy, config.target("echo"));
      expect(await refusal(second)).toEqual({ close: 1013 });
      expect(await connectionsSince(echo, before)).toBe(1);
      await closeAndWait(first);
    }, 20_000);
  });

  describe(`${driver.variant}: credentials (static tokens and tickets)`, () => {
    const config = useConfiguration(
      driver,
      { echo: "echo", other: "echo" },
      async ({ dir, driverArgs }) => {
        const tokens = join(dir, "auth-tokens");
        await Bun.write(tokens, `${STATIC_TOKEN}\n`);
        const tickets = driverArgs.includes("--ticket-secret-file")
          ? []
          : ["--ticket-secret-file", await ticketSecretFile(dir)];
        return ["--auth-token-file", tokens, ...tickets];
      },
    );
    /** The attempt is refused as `expected`, and the target sees no connection for it. */
    const refusedWithout = async (credential: string | undefined, expected: Signal) => {
      const echo = config.counter("echo");
      const before = await echo.connectionsSoFar();
      const outcome = await driver.open(config.proxy, config.target("echo"), { credential });
      expect(await refusal(outcome)).toEqual(expected);
      expect(await connectionsSince(echo, before)).toBe(0);
    };

    test.skipIf(driver.cannot?.missing !== undefined)(
      "no credential: refused, no connection",
      () => refusedWithout(undefined, driver.signals.unauthorized),
      20_000,
    );
    test.skipIf(driver.cannot?.staticToken !== undefined)(
      "a wrong static token: refused, no connection",
      () => refusedWithout("not-the-token", driver.signals.unauthorized),
      20_000,
    );
    test("a forged ticket (another key): refused, no connection", async () => {
      const forged = await ticketFor(
        config.target("echo"),
        {},
        "another-key-that-is-at-least-32-bytes-long",
      );
      await refusedWithout(forged, driver.signals.unauthorized);
    }, 20_000);
    test.skipIf(driver.cannot?.staticToken !== undefined)(
      "a valid static token works",
      async () => {
        const outcome = await driver.open(config.proxy, config.target("echo"), {
          credential: STATIC_TOKEN,
        });
        await closeAndWait(await works(outcome));
      },
      20_000,
    );
    test("a valid ticket works", async () => {
      const ticket = await ticketFor(config.target("echo"));
      const outcome = await driver.open(config.proxy, config.target("echo"), {
        credential: ticket,
      });
      await closeAndWait(await works(outcome));
    }, 20_000);
    test("a ticket pinned to another target (allow claim): refused, no connection", async () => {
      const pinned = await ticketFor(config.target("echo"), {
        allow: [`127.0.0.1:${config.target("other").port}`],
      });
      await refusedWithout(pinned, driver.signals.forbidden);
    }, 20_000);
  });

  // The clocks wait for the server by nature: one second, the smallest value each flag takes.
  describe(`${driver.variant}: --idle-timeout`, () => {
    const config = useConfiguration(driver, { echo: "echo" }, async () => ["--idle-timeout", "1"]);
    test("a quiet session is closed as documented", async () => {
      const session = await works(await driver.open(config.proxy, config.target("echo")));
      expect(await bounded(session.closed, 10_000, "the idle close")).toEqual(driver.signals.idle);
    }, 20_000);
  });

  describe(`${driver.variant}: --max-lifetime`, () => {
    const config = useConfiguration(driver, { echo: "echo" }, async () => ["--max-lifetime", "1"]);
    test("the connection is closed with 4000", async () => {
      const session = await works(await driver.open(config.proxy, config.target("echo")));
      expect(await bounded(session.closed, 10_000, "the lifetime close")).toEqual({ close: 4000 });
    }, 20_000);
  });

  // Principals and --access rules: the same on every front end (docs/security.md, Principals).
  describe.skipIf(driver.cannot?.staticToken !== undefined)(
    `${driver.variant}: principals and --access rules`,
    () => {
      const tokens = { alice: "alice-token-1", bob: "bob-token-2", carol: "carol-token-3" };
      const unnamed = "unnamed-token-4";
      const accessFile = () => join(config.dir, "access.toml");
      const rules = (deniedPort: number, extra = "") =>
        [
          "[[rule]]",
          'principals = ["alice"]',
          "max_sessions = 1",
          extra,
          "",
          "[[rule]]",
          'name = "bob"',
          'principals = ["b*"]',
          `deny = ["127.0.0.1:${deniedPort}"]`,
          "",
          "[[rule]]",
          'principals = ["carol"]',
          `front_ends = ["${driver.frontend === "wisp" ? "raw" : "wisp"}"]`,
          "",
        ].join("\n");
      const config = useConfiguration(
        driver,
        { echo: "echo", denied: "echo", reloaded: "echo" },
        async ({ targets, dir }) => {
          const tokenFile = join(dir, "named-tokens");
          await Bun.write(
            tokenFile,
            `${Object.entries(tokens)
              .map(([name, token]) => `${name} ${token}`)
              .join("\n")}\n${unnamed}\n`,
          );
          const denied = targets.find((t) => t.name === "denied")?.port ?? 0;
          await Bun.write(join(dir, "access.toml"), rules(denied));
          return [
            "--auth-token-file",
            tokenFile,
            "--access",
            join(dir, "access.toml"),
            "--metrics",
          ];
        },
      );
      const open = (name: keyof typeof tokens | "unnamed", target = "echo") =>
        driver.open(config.proxy, config.target(target), {
          credential: name === "unnamed" ? unnamed : tokens[name],
        });
      /** A principal's cap tells the client to retry later, as each front end says it. */
      const TRY_LATER: Signal[] = [{ close: 1013 }, { http: 429 }, { wisp: 0x49 }];

      test("the session line names the principal: a named token's name, an unnamed one's digest", async () => {
        await closeAndWait(await works(await open("bob")));
        await closeAndWait(await works(await open("unnamed")));
        const digest = new Bun.CryptoHasher("sha256").update(unnamed).digest("hex").slice(0, 8);
        await config.proxy.waitForOutput((text) => text.includes(`principal=token:${digest}`));
        const port = config.target("echo").port;
        const lines = sessionLines(config.proxy.output(), "tcp", port);
        expect(lines.some((line) => line.endsWith("principal=bob"))).toBe(true);
        expect(lines.some((line) => line.endsWith(`principal=token:${digest}`))).toBe(true);
      }, 20_000);

      test("max_sessions: a principal's second session at once is refused; after the first ends, it works", async () => {
        const first = await works(await open("alice"));
        const second = await open("alice");
        expect(TRY_LATER).toContainEqual(await refusal(second));
        // Another principal is not held back by alice's cap.
        await closeAndWait(await works(await open("bob")));
        await closeAndWait(first);
        // The cap is given back once the first session is released (bounded retries).
        let again: Outcome | undefined;
        for (let i = 0; i < 50; i++) {
          again = await open("alice");
          if (again.opened) break;
          await Bun.sleep(50);
        }
        await closeAndWait(await works(again as Outcome));
        const refused = seriesOf(await scrape(config.proxy), "socket2web_principal_refused_total");
        expect(
          refused.find(
            (s) => s.labels.principal === "alice" && s.labels.reason === "principal_limit",
          )?.value,
        ).toBeGreaterThan(0);
      }, 20_000);

      test("a rule's deny narrows the server's policy for its principals only", async () => {
        expect(await refusal(await open("bob", "denied"))).toEqual(driver.signals.forbidden);
        await closeAndWait(await works(await open("alice", "denied")));
      }, 20_000);

      test("front_ends: a principal limited to another front end is refused", async () => {
        expect(await refusal(await open("carol"))).toEqual(driver.signals.forbidden);
      }, 20_000);

      test("metrics per principal: names of the file get their own label, others share 'other'", async () => {
        await closeAndWait(await works(await open("unnamed")));
        const text = await scrape(config.proxy);
        const sessions = seriesOf(text, "socket2web_principal_sessions_total");
        const labels = sessions.map((s) => s.labels.principal);
        expect(labels).toContain("other");
        expect(labels.every((l) => ["alice", "carol", "other"].includes(l as string))).toBe(true);
        const bytes = seriesOf(text, "socket2web_principal_bytes_total").filter(
          (s) => s.labels.principal === "other" && s.labels.direction === "client_to_target",
        );
        expect(bytes[0]?.value).toBeGreaterThan(0);
        expect(seriesOf(text, "socket2web_principal_session_seconds_total").length).toBeGreaterThan(
          0,
        );
      }, 20_000);

      test("reload: a broken file keeps the old rules (logged with its line, counted); a rule that now denies an open session's target closes it", async () => {
        const reloaded = config.target("reloaded");
        const denied = config.target("denied").port;
        const open = await works(
          await driver.open(config.proxy, reloaded, { credential: tokens.bob }),
        );
        await Bun.write(
          accessFile(),
          `${rules(denied)}\n[[rule]]\nprincipals = ["x"]\nmax_sessions = "two"\n`,
        );
        await config.proxy.waitForOutput(
          (text) => /kept the old access rules: .*access\.toml:\d+: max_sessions/.test(text),
          10_000,
        );
        expect(config.proxy.output()).toMatch(/access\.toml:17: max_sessions/);
        const failures = seriesOf(
          await scrape(config.proxy),
          "socket2web_access_reload_failures_total",
        );
        expect(failures[0]?.value).toBeGreaterThan(0);
        // The old rules still hold: bob's denied target stays denied, the open session is untouched.
        expect(
          await refusal(
            await driver.open(config.proxy, config.target("denied"), { credential: tokens.bob }),
          ),
        ).toEqual(driver.signals.forbidden);
        const data = randomBytes(8);
        open.send(data);
        expect(Buffer.from(await open.read(8))).toEqual(Buffer.from(data));
        // Now bob's rule also denies the target bob's open session uses.
        await Bun.write(
          accessFile(),
          rules(denied).replace(
            `deny = ["127.0.0.1:${denied}"]`,
            `deny = ["127.0.0.1:${denied}", "127.0.0.1:${reloaded.port}"]`,
          ),
        );
        const signal = await bounded(open.closed, 10_000, "the revoked session's close");
        // 4403 as a forbidden target (a Wisp stream: CLOSE 0x48, its connection stays open).
        expect<Signal[]>([{ close: 4403 }, { wisp: 0x48 }]).toContainEqual(signal);
        await config.proxy.waitForOutput((text) => text.includes("whose target they deny"));
        // Restores the file for any later case.
        await Bun.write(accessFile(), rules(denied));
      }, 30_000);
    },
  );

  describe.skipIf(driver.cannot?.staticToken !== undefined)(
    `${driver.variant}: --access limits (max_lifetime, idle_timeout, rate, protocols) and SIGHUP`,
    () => {
      const tokens = {
        alice: "alice-token-1",
        bob: "bob-token-2",
        carol: "carol-token-3",
        dave: "dave-token-4",
      };
      const rules = [
        "[[rule]]",
        'principals = ["alice"]',
        "max_lifetime = 1",
        "",
        "[[rule]]",
        'principals = ["bob"]',
        "idle_timeout = 1",
        "",
        "[[rule]]",
        'principals = ["carol"]',
        "rate = 1",
        "",
        "[[rule]]",
        'principals = ["dave"]',
        'protocols = ["udp"]',
        "",
      ].join("\n");
      const config = useConfiguration(driver, { echo: "echo" }, async ({ dir }) => {
        const tokenFile = join(dir, "named-tokens");
        await Bun.write(
          tokenFile,
          `${Object.entries(tokens)
            .map(([name, token]) => `${name} ${token}`)
            .join("\n")}\n`,
        );
        await Bun.write(join(dir, "access.toml"), rules);
        return ["--auth-token-file", tokenFile, "--access", join(dir, "access.toml")];
      });
      const open = (name: keyof typeof tokens) =>
        driver.open(config.proxy, config.target("echo"), { credential: tokens[name] });

      test("max_lifetime: the rule's lifetime closes its principal's session as --max-lifetime does", async () => {
        const session = await works(await open("alice"));
        const signal = await bounded(session.closed, 10_000, "the lifetime close");
        // A Wisp stream ends with CLOSE 0x02 (its connection, under its own clock, stays open).
        expect<Signal[]>([{ close: 4000 }, { wisp: 0x02 }]).toContainEqual(signal);
      }, 20_000);

      test("idle_timeout: the rule's idle timeout closes a quiet session as --idle-timeout does", async () => {
        const session = await works(await open("bob"));
        expect(await bounded(session.closed, 10_000, "the idle close")).toEqual(
          driver.signals.idle,
        );
      }, 20_000);

      test("rate: past the principal's sessions per second, refused with try-again-later", async () => {
        const first = await works(await open("carol"));
        const second = await open("carol");
        expect([{ close: 1013 }, { http: 429 }, { wisp: 0x49 }]).toContainEqual(
          await refusal(second),
        );
        await closeAndWait(first);
      }, 20_000);

      test("protocols: an adapter the rule does not list is refused", async () => {
        expect(await refusal(await open("dave"))).toEqual(driver.signals.forbidden);
      }, 20_000);

      test("SIGHUP re-reads the file", async () => {
        await Bun.write(
          join(config.dir, "access.toml"),
          rules.replace('protocols = ["udp"]', 'protocols = ["tcp"]'),
        );
        config.proxy.proc.kill("SIGHUP");
        await config.proxy.waitForOutput((text) =>
          text.includes("SIGHUP received: reloaded 4 access rules"),
        );
        await closeAndWait(await works(await open("dave")));
      }, 20_000);
    },
  );
}

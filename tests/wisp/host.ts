// The real server (startServer: admission, front ends, sessions) in this process with Wisp on,
// for tests of the protocol itself; tests/e2e/wisp.test.ts drives the real process.
import { tcp } from "../../src/adapters/tcp.ts";
import { createCredentialCheck } from "../../src/auth/credentials.ts";
import { createTokenSet } from "../../src/auth/tokens.ts";
import { defaultServerConfig } from "../../src/config/defaults.ts";
import { createLogger } from "../../src/log/logger.ts";
import { mapResolver } from "../../src/net/resolver.ts";
import { createPolicy, type Policy } from "../../src/policy/policy.ts";
import type { FlowLimits } from "../../src/relay/types.ts";
import { type ProxyServer, startServer } from "../../src/server/server.ts";
import type { WispConnection } from "../../src/wisp/connection.ts";
import type { CreditLimits } from "../../src/wisp/credit.ts";
import type { OutboundHold } from "../../src/wisp/outbound.ts";

export interface WispHostOptions {
  readonly policy?: Policy;
  readonly maxStreams?: number;
  readonly credit?: CreditLimits;
  /** Require this password through Wisp 2's password extension (a static token). */
  readonly password?: string;
  readonly flow?: FlowLimits;
  readonly connectTimeout?: number;
  readonly idleTimeout?: number;
  readonly infoTimeoutMs?: number;
  readonly outbound?: OutboundHold;
}

export interface WispHost {
  readonly url: string;
  readonly port: number;
  readonly server: ProxyServer;
  readonly connections: Set<WispConnection>;
  stop(): Promise<void>;
}

export const PREFIX = "/wisp/";

const DEFAULTS = await defaultServerConfig();

export function startWispHost(options: WispHostOptions = {}): WispHost {
  const connections = new Set<WispConnection>();
  const server = startServer(
    {
      ...DEFAULTS,
      ip: "127.0.0.1",
      port: 0,
      wisp: PREFIX,
      wispMaxStreams: options.maxStreams ?? 128,
      connectTimeout: options.connectTimeout ?? 5,
      idleTimeout: options.idleTimeout ?? 0,
      maxLifetime: 0,
    },
    {
      logger: createLogger("warn"),
      // Only TCP streams are offered, so the INFO carries no UDP extension.
      adapters: [tcp],
      resolver: mapResolver({ localhost: "127.0.0.1" }),
      policy: options.policy ?? createPolicy({ allow: [], deny: [] }),
      ...(options.password
        ? { credentials: createCredentialCheck({ tokens: createTokenSet([options.password]) }) }
        : {}),
      ...(options.flow ? { flow: options.flow } : {}),
      wispTuning: {
        connections,
        ...(options.credit ? { credit: options.credit } : {}),
        ...(options.infoTimeoutMs !== undefined ? { infoTimeoutMs: options.infoTimeoutMs } : {}),
        ...(options.outbound ? { outbound: options.outbound } : {}),
      },
      collectGarbage: () => {},
    },
  );
  return {
    url: `ws://127.0.0.1:${server.port}${PREFIX}`,
    port: server.port,
    server,
    connections,
    stop: () => server.shutdown(0),
  };
}

import { createConsola, LogLevels } from "consola";
import { createAdapters } from "../../src/adapters/index.ts";
import { type AdapterSettings, DEFAULT_ADAPTER_SETTINGS } from "../../src/adapters/settings.ts";
import { defaultServerConfig } from "../../src/config/defaults.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { mapResolver } from "../../src/net/resolver.ts";
import { createPolicy } from "../../src/policy/policy.ts";
import { parseRule } from "../../src/policy/rule.ts";
import type { ServerConfig } from "../../src/server/config.ts";
import { type ProxyServer, startServer } from "../../src/server/server.ts";

export interface ContractProxy {
  readonly url: string;
  readonly port: number;
  readonly server: ProxyServer;
  /** Every log line so far, as text. */
  readonly logs: string[];
  /** Resolves with the first log line matching `pattern` (bounded by `timeoutMs`). */
  logLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** The real server, in this process, on a free loopback port, with these adapter settings. */
export interface ContractRules {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  /** Serve GET /metrics. */
  readonly metrics?: boolean;
}

export async function startContractProxy(
  settings: Partial<AdapterSettings> = {},
  config: Partial<ServerConfig> = {},
  rules: ContractRules = {},
): Promise<ContractProxy> {
  const logs: string[] = [];
  const listeners = new Set<() => void>();
  const logger = createConsola({
    level: LogLevels.info,
    reporters: [
      {
        log(entry) {
          logs.push(entry.args.map(String).join(" "));
          for (const listener of listeners) listener();
        },
      },
    ],
  });
  const server = startServer(
    {
      ...(await defaultServerConfig()),
      ip: "127.0.0.1",
      port: 0,
      connectTimeout: 5,
      metrics: rules.metrics ?? false,
      ...config,
    },
    {
      logger,
      resolver: mapResolver({ localhost: ["127.0.0.1"] }),
      policy: createPolicy({
        allow: (rules.allow ?? []).map(parseRule),
        deny: (rules.deny ?? []).map(parseRule),
      }),
      adapters: createAdapters({ ...DEFAULT_ADAPTER_SETTINGS, ...settings }),
      ...(rules.metrics ? { createMetrics } : {}),
    },
  );
  return {
    url: server.url,
    port: server.port,
    server,
    logs,
    logLine(pattern, timeoutMs = 5000) {
      const found = () => logs.find((line) => pattern.test(line));
      const now = found();
      if (now !== undefined) return Promise.resolve(now);
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const line = found();
          if (line === undefined) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no log line matched ${pattern}; got:\n${logs.join("\n")}`));
        }, timeoutMs);
        listeners.add(check);
      });
    },
    stop: () => server.shutdown(0),
  };
}

import type { OriginCheck } from "../auth/origin.ts";
import { TOKEN_ENV } from "../client/modes/client-options.ts";
import { ADMIN_TOKEN_ENV } from "../client/modes/sessions.ts";
import { identityHeader, loadAccess } from "../config/access.ts";
import { loadAdapters } from "../config/adapters.ts";
import { checkCapture } from "../config/capture.ts";
import { openProxyWarning } from "../config/exposure.ts";
import { loadFixedTargets } from "../config/fixed-targets.ts";
import { loadSettings } from "../config/load.ts";
import { formatSettings } from "../config/print.ts";
import { buildSecurity } from "../config/security.ts";
import { toServerConfig } from "../config/server-config.ts";
import { allowedIn, SETTINGS, type Setting } from "../config/settings.ts";
import { settingOf, unknownEnvWarnings } from "../config/sources.ts";
import { UsageError } from "../config/usage-error.ts";
import { count } from "../log/count.ts";
import type { Resolver } from "../net/resolver.ts";
import { TEST_HOSTS_ENV } from "../process/test-hosts.ts";
import { type Notice, runServer } from "../server/start.ts";
import { loadTls, type TlsFiles, TlsLoadError } from "../server/tls.ts";
import { WORKER_ENV } from "../server/workers.ts";
import { formatAccessRules } from "./access.ts";
import type { FlagHelp } from "./help.ts";

/** Variables read outside the settings table: not typos of a setting. */
const OTHER_ENV_NAMES = [TOKEN_ENV, ADMIN_TOKEN_ENV, WORKER_ENV, TEST_HOSTS_ENV];

export interface ServeDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * How target names resolve: the system resolver, or a table injected for tests; with start-up
   * lines about it. Asked only when serving.
   */
  readonly resolver: () => { readonly resolver: Resolver; readonly notices: readonly Notice[] };
}

/** `socket2web [serve] [flags]`: read the settings once, build and check everything, then serve. */
export async function serve(args: readonly string[], deps: ServeDeps): Promise<void> {
  const loaded = await loadSettings(args, deps.env);
  const { settings } = loaded;
  const adapters = loadAdapters(settings, loaded.origins);
  const access = await loadAccess(
    settings,
    loaded.origins,
    adapters.map((adapter) => adapter.name),
  );
  // The credential check reads the access rules as reloaded (their `single_use_tickets`).
  const security = await buildSecurity(settings, loaded.origins, access);
  const fixed = await loadFixedTargets(settings, loaded.origins);
  const tls = security.tls
    ? { files: security.tls, material: await readTls(security.tls) }
    : undefined;
  const identity = identityHeader(settings, loaded.origins);
  if (settings["print-config"]) {
    process.stdout.write(formatSettings(loaded));
    if (access) process.stdout.write(formatAccessRules(access.path, access.rules));
    return;
  }
  const config = toServerConfig(settings);
  const captureWarnings = checkCapture(settings, loaded.origins);
  const resolution = deps.resolver();
  const notices: Notice[] = [
    ...resolution.notices,
    {
      level: "info",
      text:
        `policy: ${security.rules.allow.length} allow and ${security.rules.deny.length} deny rules; ` +
        `credential: ${security.authSummary}`,
    },
    { level: "info", text: `protocols: ${adapters.map((adapter) => adapter.name).join(", ")}` },
  ];
  const warning = openProxyWarning(
    config.ip,
    security.rules.allow.length,
    security.credentials.required,
  );
  if (warning) notices.push({ level: "warn", text: warning });
  for (const text of captureWarnings) notices.push({ level: "warn", text });
  for (const text of unknownEnvWarnings(deps.env, OTHER_ENV_NAMES)) {
    notices.push({ level: "warn", text });
  }
  if (access) {
    const { rules, fallback } = access.rules;
    notices.push({
      level: "info",
      text: `access: ${count(rules.length, "rule")}${fallback ? " and a [default]" : ""} from ${access.path}`,
    });
  }
  if (fixed.routes.size > 0) {
    notices.push({ level: "info", text: `raw sessions: ${count(fixed.routes.size, "route")}` });
  }
  if (fixed.tokens && fixed.snapshot) {
    notices.push({
      level: "info",
      text: `raw sessions: ${count(fixed.tokens.size, "token")} from ${count(fixed.snapshot.files, "file")} in ${fixed.tokens.path}`,
    });
    for (const problem of fixed.snapshot.problems) {
      notices.push({ level: "warn", text: `token file: skipped ${problem}` });
    }
  }
  await runServer({
    config,
    policy: security.policy,
    credentials: security.credentials,
    origin: security.origin,
    clientAddress: security.clientAddress,
    resolver: resolution.resolver,
    adapters,
    ...(access ? { access } : {}),
    ...(identity ? { identity } : {}),
    notices,
    env: deps.env,
    adminTokens: security.adminTokens,
    statePassword: settings["state-password"],
    fixedTargets: {
      routes: fixed.routes,
      tokens: fixed.tokens,
      tickets:
        settings["ticket-secret"] !== undefined ||
        settings["ticket-secret-file"] !== undefined ||
        settings["ticket-public-key"] !== undefined ||
        settings["ticket-jwks"] !== undefined,
    },
    ...(security.ticketKeys ? { ticketKeys: security.ticketKeys } : {}),
    ...(tls ? { tls } : {}),
    ...(config.console ? { page: await consoleRoute(security.origin) } : {}),
  });
}

async function readTls(files: TlsFiles) {
  try {
    return await loadTls(files);
  } catch (error) {
    if (error instanceof TlsLoadError) throw new UsageError(error.message);
    throw error;
  }
}

/** The server's flags for --help, in the table's order. */
export function serverFlags(): FlagHelp[] {
  return (Object.entries(SETTINGS) as [string, Setting][])
    .filter(([, setting]) => allowedIn(setting, "flag"))
    .map(([name, setting]) => ({
      name,
      description: setting.description,
      ...(setting.kind === "switch" ? {} : { hint: setting.hint }),
      ...(setting.kind === "value" && setting.default !== undefined
        ? { default: String(setting.default) }
        : {}),
    }));
}

/** Whether `--name` takes the next argument as its value (for finding the command word). */
export function serverFlagTakesValue(name: string): boolean {
  const setting = settingOf(name);
  return setting !== undefined && setting.kind !== "switch" && allowedIn(setting, "flag");
}

/**
 * The console page, and what it is told when its WebSocket would be refused: the Origin check
 * is the one refusal before the upgrade that a page without credentials can meet.
 */
async function consoleRoute(origin: OriginCheck) {
  // Loaded only with --console: running from source, loading it builds the page.
  const { createConsoleRoute } = await import("../console/route.ts");
  return createConsoleRoute((request) => {
    const decision = origin(request.headers.get("origin"), request.url);
    if (decision.allowed) return undefined;
    return `${decision.reason}: list this page's origin with --allow-origin`;
  });
}

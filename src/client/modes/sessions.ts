import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { UsageError } from "../../config/usage-error.ts";
import type { SessionView } from "../../server/sessions/view.ts";
import { assertKnownFlags } from "./known-flags.ts";

/** The admin token, when --admin-token-file is not given. */
export const ADMIN_TOKEN_ENV = "SOCKET2WEB_ADMIN_TOKEN";

export const SESSIONS_EXAMPLES = [
  "socket2web sessions list --admin http://127.0.0.1:9090 --admin-token-file admin-token",
  "SOCKET2WEB_ADMIN_TOKEN=… socket2web sessions list --admin http://127.0.0.1:9090 --principal alice --json",
  "socket2web sessions kill w2-17 --admin http://127.0.0.1:9090 --admin-token-file admin-token",
  "socket2web sessions kill --principal alice --admin http://127.0.0.1:9090 --admin-token-file admin-token",
  "socket2web sessions kill --principal alice --until 2026-12-31T18:00:00Z --admin http://127.0.0.1:9090 --admin-token-file admin-token",
  "socket2web sessions list --fleet --admin http://127.0.0.1:9090 --admin-token-file admin-token",
  "socket2web sessions kill 17 --instance edge-2:4242 --admin http://127.0.0.1:9090 --admin-token-file admin-token",
  "socket2web sessions tail --admin http://127.0.0.1:9090 --admin-token-file admin-token",
];

export const sessionsArgs = {
  action: {
    type: "positional",
    description: "list, kill ID, kill --principal NAME, or tail",
    required: false,
  },
  admin: {
    type: "string",
    description: "The server's admin listener (its --metrics-listen), e.g. http://127.0.0.1:9090",
    valueHint: "url",
  },
  "admin-token-file": {
    type: "string",
    description: `File holding the admin token (its first token line), else ${ADMIN_TOKEN_ENV}`,
    valueHint: "file",
  },
  principal: {
    type: "string",
    description: "Only this principal's sessions (list, tail); kill: end all of them",
    valueHint: "name",
  },
  target: {
    type: "string",
    description: "Only sessions to this host:port or path",
    valueHint: "target",
  },
  frontend: { type: "string", description: "Only sessions of this front end", valueHint: "name" },
  sort: {
    type: "string",
    description:
      "list: started, id, principal, target, bytes_up or bytes_down; a leading - reverses",
    valueHint: "key",
  },
  limit: {
    type: "string",
    description: "list: at most this many (default 100)",
    valueHint: "count",
  },
  offset: { type: "string", description: "list: skip this many", valueHint: "count" },
  fleet: {
    type: "boolean",
    description:
      "list: every instance's sessions, each with its instance (the server needs --state)",
  },
  instance: {
    type: "string",
    description: "kill ID: the fleet instance holding it (HOST:PID, as list --fleet shows it)",
    valueHint: "name",
  },
  until: {
    type: "string",
    description:
      "kill --principal: also refuse its new sessions until this time (e.g. 2026-12-31T18:00:00Z)",
    valueHint: "time",
  },
  json: { type: "boolean", description: "Print JSON (one object; tail: one per line) for scripts" },
} as const;

type Args = Partial<Record<keyof typeof sessionsArgs, string | boolean | undefined>>;

interface AdminClient {
  request(
    method: string,
    path: string,
    params?: Record<string, string | undefined>,
  ): Promise<Response>;
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

function adminClient(args: Args, env: Readonly<Record<string, string | undefined>>): AdminClient {
  const base = text(args.admin);
  if (base === undefined) {
    throw new UsageError("sessions needs --admin http://HOST:PORT, the server's --metrics-listen");
  }
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(
      `--admin expects a URL such as http://127.0.0.1:9090, got ${JSON.stringify(base)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--admin expects an http:// or https:// URL, got ${JSON.stringify(base)}`);
  }
  const token = adminToken(args, env);
  return {
    async request(method, path, params = {}) {
      const target = new URL(path, url);
      for (const [name, value] of Object.entries(params)) {
        if (value !== undefined) target.searchParams.set(name, value);
      }
      try {
        return await fetch(target, { method, headers: { authorization: `Bearer ${token}` } });
      } catch (error) {
        throw new CommandError(`cannot reach ${url.origin}: ${(error as Error).message}`);
      }
    },
  };
}

function adminToken(args: Args, env: Readonly<Record<string, string | undefined>>): string {
  const file = text(args["admin-token-file"]);
  if (file !== undefined) {
    let content: string;
    try {
      content = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`--admin-token-file cannot read ${file}: ${(error as Error).message}`);
    }
    // As the server reads it: the first line that is not blank or a comment.
    const token = content
      .split(/\r?\n/)
      .map((line) => line.trim())
      .find((line) => line !== "" && !line.startsWith("#"));
    if (token === undefined) throw new UsageError(`--admin-token-file ${file} holds no token`);
    return token;
  }
  const token = env[ADMIN_TOKEN_ENV]?.trim();
  if (!token) {
    throw new UsageError(
      `sessions needs the admin token: --admin-token-file FILE or ${ADMIN_TOKEN_ENV}`,
    );
  }
  return token;
}

/** A failure to report in one line, exit status 1 (not a usage error). */
class CommandError extends Error {}

/** The body of an answer, or a CommandError that says what the server said. */
async function answerOf(response: Response): Promise<unknown> {
  const body = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (response.ok && parsed !== undefined) return parsed;
  const said = (parsed as { error?: unknown } | undefined)?.error ?? body.trim();
  throw new CommandError(`the admin listener answered ${response.status}: ${String(said)}`);
}

/** A table for people: one row per session, columns as wide as their widest cell. */
export function formatTable(views: readonly SessionView[]): string {
  const fleet = views.some((view) => view.instance !== undefined);
  const header = [
    ...(fleet ? ["INSTANCE"] : []),
    "ID",
    "PRINCIPAL",
    "CLIENT",
    "FRONTEND",
    "PROTOCOL",
    "TARGET",
    "STATE",
    "STARTED",
    "UP",
    "DOWN",
    "PAUSED",
  ];
  const rows = views.map((view) => [
    ...(fleet ? [view.instance ?? "-"] : []),
    view.id,
    view.principal,
    view.client,
    view.wisp ? `wisp ${view.wisp.connection}/${view.wisp.stream}` : view.frontend,
    view.protocol ?? "-",
    view.target ?? "-",
    view.state,
    view.started,
    String(view.bytes_up),
    String(view.bytes_down),
    view.paused ?? "-",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] as number))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const filters = (args: Args) => ({
  principal: text(args.principal),
  target: text(args.target),
  frontend: text(args.frontend),
});

async function list(client: AdminClient, args: Args): Promise<void> {
  const answer = (await answerOf(
    await client.request("GET", "/sessions", {
      ...filters(args),
      sort: text(args.sort),
      limit: text(args.limit),
      offset: text(args.offset),
      scope: args.fleet ? "fleet" : undefined,
    }),
  )) as {
    sessions: SessionView[];
    total: number;
    offset: number;
    next_offset: number | null;
    unanswered?: number;
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return;
  }
  process.stdout.write(`${formatTable(answer.sessions)}\n`);
  const shown = answer.sessions.length;
  const more = answer.next_offset === null ? "" : `; --offset ${answer.next_offset} for more`;
  process.stdout.write(`${shown} of ${answer.total} sessions${more}\n`);
  if (answer.unanswered) {
    process.stderr.write(`${answer.unanswered} instance(s) did not answer in time: not shown\n`);
  }
}

async function kill(client: AdminClient, args: Args, ids: readonly string[]): Promise<void> {
  const principal = text(args.principal);
  if ((principal === undefined) === (ids.length === 0) || ids.length > 1) {
    throw new UsageError("kill takes one session ID, or --principal NAME (and no ID)");
  }
  const instance = text(args.instance);
  const until = text(args.until);
  if (instance !== undefined && principal !== undefined) {
    throw new UsageError(
      "--instance goes with a session ID: a kill by --principal reaches every instance",
    );
  }
  if (until !== undefined && principal === undefined) {
    throw new UsageError("--until goes with --principal: it refuses that principal's new sessions");
  }
  const response =
    principal === undefined
      ? await client.request("DELETE", `/sessions/${encodeURIComponent(ids[0] as string)}`, {
          instance,
        })
      : await client.request("DELETE", "/sessions", { principal, until });
  const answer = (await answerOf(response)) as {
    ended: string[];
    refused_until?: string;
    unanswered?: number;
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return;
  }
  const count = answer.ended.length;
  process.stdout.write(
    `ended ${count} session${count === 1 ? "" : "s"}${count ? `: ${answer.ended.join(", ")}` : ""}\n`,
  );
  if (answer.refused_until) {
    process.stdout.write(
      `new sessions of ${principal} are refused until ${answer.refused_until}\n`,
    );
  }
  if (answer.unanswered) {
    process.stderr.write(`${answer.unanswered} instance(s) did not answer in time\n`);
  }
}

/** One event for people: `opened w1-3 anonymous 127.0.0.1:5000 socket2web tcp 127.0.0.1:22`. */
function eventLine(event: Record<string, unknown>): string {
  const view = event.session as SessionView | undefined;
  if (!view) return `${String(event.event)}: ${String(event.reason ?? "")}`;
  const parts = [
    String(event.event),
    view.id,
    view.principal,
    view.client,
    view.frontend,
    view.protocol ?? "-",
    view.target ?? "-",
  ];
  if (event.event === "closed") {
    parts.push(
      `up ${view.bytes_up} down ${view.bytes_down} close ${String(event.close_code)} by ${String(event.closed_by)}`,
    );
  }
  return parts.join(" ");
}

async function tail(client: AdminClient, args: Args): Promise<void> {
  const response = await client.request("GET", "/sessions/events", filters(args));
  if (!response.ok || !response.body) await answerOf(response);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body as ReadableStream<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf("\n\n");
    while (end !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf("\n\n");
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (block === ": subscribed") {
        process.stderr.write(
          `following the sessions of ${new URL(response.url).origin} (Ctrl-C to stop)\n`,
        );
      }
      if (data === "") continue;
      const event = JSON.parse(data) as Record<string, unknown>;
      process.stdout.write(`${args.json ? JSON.stringify(event) : eventLine(event)}\n`);
      if (event.event === "dropped")
        throw new CommandError(`the server ended the stream: ${String(event.reason)}`);
    }
  }
  throw new CommandError("the admin listener ended the stream of events");
}

export const sessionsCommand = defineCommand({
  meta: {
    name: "sessions",
    description: "List, end or follow a server's live sessions (its admin API on --metrics-listen)",
  },
  args: sessionsArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, sessionsArgs);
    const positionals = (args._ as string[] | undefined) ?? [];
    const [action, ...rest] = positionals;
    const options = args as Args;
    if (action !== "kill" && rest.length > 0) {
      throw new UsageError(
        `sessions ${action} takes no argument, got ${JSON.stringify(rest.join(" "))}`,
      );
    }
    try {
      switch (action) {
        case "list":
          return await list(adminClient(options, process.env), options);
        case "kill":
          return await kill(adminClient(options, process.env), options, rest);
        case "tail":
          return await tail(adminClient(options, process.env), options);
        default:
          throw new UsageError(
            `sessions needs an action: list, kill or tail${action === undefined ? "" : `, got ${JSON.stringify(action)}`}`,
          );
      }
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      process.stderr.write(`socket2web sessions: ${error.message}\n`);
      process.exitCode = 1;
    }
  },
});

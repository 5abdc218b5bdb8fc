import { type ArgsDef, type CommandDef, runCommand } from "citty";
import {
  CONNECT_EXAMPLES,
  CONNECT_REQUIRED,
  connectArgs,
  connectCommand,
} from "../client/modes/connect-stdio.ts";
import {
  FORWARD_EXAMPLES,
  FORWARD_REQUIRED,
  forwardArgs,
  forwardCommand,
} from "../client/modes/forward.ts";
import { SESSIONS_EXAMPLES, sessionsArgs, sessionsCommand } from "../client/modes/sessions.ts";
import { SOCKS_EXAMPLES, SOCKS_REQUIRED, socksArgs, socksCommand } from "../client/modes/socks.ts";
import { TICKET_EXAMPLES, ticketArgs, ticketCommand } from "../client/modes/ticket.ts";
import { readFlags } from "../config/sources.ts";
import { UsageError } from "../config/usage-error.ts";
import { VERSION } from "../version.ts";
import { ACCESS_EXAMPLES, accessArgs, accessCommand } from "./access.ts";
import { type CommandHelp, flagsOfArgs, renderHelp, wantsColour } from "./help.ts";
import { PROBE_EXAMPLES, probeArgs, probeCommand } from "./probe.ts";
import { type ServeDeps, serve, serverFlags, serverFlagTakesValue } from "./serve.ts";

const DESCRIPTION = "WebSocket-to-socket proxy: each client picks its target at connection time";
const SETTINGS_NOTE =
  "Each flag can also be set as SOCKET2WEB_<FLAG> (upper case, - as _) or as a key of the --config file; flags win over the environment, which wins over the file.";

const SERVE_EXAMPLES = [
  "socket2web --port 8080",
  "socket2web --ip 0.0.0.0 --port 8080 --allow 10.0.0.0/8:5432 --ticket-secret-file /run/secrets/ticket-secret",
  "socket2web --config socket2web.toml --print-config",
];

/** The one-line description a client command gives in its citty meta. */
function descriptionOf(command: CommandDef): string {
  return (command.meta as { description?: string } | undefined)?.description ?? "";
}

/** A client command: citty parses its flags; `required` marks flags it cannot run without. */
interface ClientCommand {
  readonly command: CommandDef;
  readonly args: ArgsDef;
  readonly description: string;
  readonly required: readonly string[];
  readonly examples: readonly string[];
}

const CLIENT_COMMANDS: Readonly<Record<string, ClientCommand>> = {
  forward: {
    command: forwardCommand as CommandDef,
    args: forwardArgs,
    description: descriptionOf(forwardCommand as CommandDef),
    required: FORWARD_REQUIRED,
    examples: FORWARD_EXAMPLES,
  },
  socks: {
    command: socksCommand as CommandDef,
    args: socksArgs,
    description: descriptionOf(socksCommand as CommandDef),
    required: SOCKS_REQUIRED,
    examples: SOCKS_EXAMPLES,
  },
  connect: {
    command: connectCommand as CommandDef,
    args: connectArgs,
    description: descriptionOf(connectCommand as CommandDef),
    required: CONNECT_REQUIRED,
    examples: CONNECT_EXAMPLES,
  },
  ticket: {
    command: ticketCommand as CommandDef,
    args: ticketArgs,
    description: descriptionOf(ticketCommand as CommandDef),
    required: [],
    examples: TICKET_EXAMPLES,
  },
  sessions: {
    command: sessionsCommand as CommandDef,
    args: sessionsArgs,
    description: descriptionOf(sessionsCommand as CommandDef),
    required: ["admin"],
    examples: SESSIONS_EXAMPLES,
  },
  access: {
    command: accessCommand as CommandDef,
    args: accessArgs,
    description: descriptionOf(accessCommand as CommandDef),
    required: [],
    examples: ACCESS_EXAMPLES,
  },
  probe: {
    command: probeCommand as CommandDef,
    args: probeArgs,
    description: descriptionOf(probeCommand as CommandDef),
    required: [],
    examples: PROBE_EXAMPLES,
  },
};

const SERVE_DESCRIPTION = "Run the proxy server (the default command)";
const COMMAND_NAMES = ["serve", ...Object.keys(CLIENT_COMMANDS)];

function helpOf(name: string | undefined): CommandHelp {
  const client = name === undefined ? undefined : CLIENT_COMMANDS[name];
  if (client) {
    return {
      usage: `socket2web ${name}`,
      description: client.description,
      flags: flagsOfArgs(client.args, client.required),
      examples: client.examples,
    };
  }
  if (name === "serve") {
    return {
      usage: "socket2web serve",
      description: SERVE_DESCRIPTION,
      flags: serverFlags(),
      examples: SERVE_EXAMPLES.map((example) => example.replace("socket2web", "socket2web serve")),
      notes: [SETTINGS_NOTE],
    };
  }
  return {
    usage: "socket2web",
    description: `${DESCRIPTION} (socket2web v${VERSION})`,
    flags: serverFlags(),
    commands: [
      { name: "serve", description: SERVE_DESCRIPTION },
      ...Object.entries(CLIENT_COMMANDS).map(([command, { description }]) => ({
        name: command,
        description,
      })),
    ],
    examples: SERVE_EXAMPLES,
    notes: [
      "Without a command, socket2web serves: the options above are the server's.",
      SETTINGS_NOTE,
      "Use socket2web <command> --help for more about a command.",
    ],
  };
}

interface CommandLine {
  /** The command word, when one is given. */
  readonly name: string | undefined;
  /** Arguments before and after the command word. */
  readonly before: readonly string[];
  readonly after: readonly string[];
}

/**
 * Finds the command word: the first argument that is neither a flag nor the value of a server
 * flag (flags before the command are the server's). Whether it names a command is the caller's
 * question.
 */
export function splitCommandLine(argv: readonly string[]): CommandLine {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      const name = arg.replace(/^-{1,2}/, "");
      const next = argv[i + 1];
      if (
        !name.includes("=") &&
        serverFlagTakesValue(name) &&
        next !== undefined &&
        !next.startsWith("--")
      )
        i++;
      continue;
    }
    return { name: arg, before: argv.slice(0, i), after: argv.slice(i + 1) };
  }
  return { name: undefined, before: argv, after: [] };
}

function asks(argv: readonly string[], flags: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => flags.includes(arg));
}

/** The whole command line: help, version, the server (default) or a client command. */
export async function runCli(argv: readonly string[], deps: ServeDeps): Promise<void> {
  const { name, before, after } = splitCommandLine(argv);
  const known = name === undefined || COMMAND_NAMES.includes(name);
  if (known && asks(argv, ["--help", "-h"])) {
    process.stdout.write(renderHelp(helpOf(name), wantsColour(process.stdout, deps.env)));
    return;
  }
  if (known && asks(argv, ["--version", "-v"])) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (name === undefined) return serve(argv, deps);
  if (name === "serve") return serve([...before, ...after], deps);
  const client = CLIENT_COMMANDS[name];
  if (client === undefined) {
    // A flag mistake before the word is the likelier error: report it first.
    readFlags(before);
    throw new UsageError(
      `unknown command or argument ${JSON.stringify(name)} (commands: ${COMMAND_NAMES.join(", ")})`,
    );
  }
  if (before.length > 0) {
    // Flags before a client command would be the server's; never drop one silently.
    throw new UsageError(
      `${before[0]} is given before "${name}": put ${name}'s flags after it (socket2web ${name} --help lists them)`,
    );
  }
  await runCommand(client.command, { rawArgs: [...after] });
}

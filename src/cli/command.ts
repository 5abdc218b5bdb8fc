import { defineCommand } from "citty";
import { connectCommand } from "../client/modes/connect-stdio.ts";
import { forwardCommand } from "../client/modes/forward.ts";
import { ticketCommand } from "../client/modes/ticket.ts";
import { VERSION } from "../version.ts";
import { assertKnownFlags } from "./flags.ts";
import { serveCommand } from "./serve.ts";
import { serverArgs } from "./server-args.ts";
import { UsageError } from "./usage-error.ts";

const subCommands = {
  serve: serveCommand,
  forward: forwardCommand,
  connect: connectCommand,
  ticket: ticketCommand,
};

/**
 * The root command. Without a subcommand it runs the server; its args are the server's, so that
 * `--help` shows them and citty knows which flags take a value.
 */
export const mainCommand = defineCommand({
  meta: {
    name: "socket2web",
    version: VERSION,
    description: "WebSocket-to-socket proxy: each client picks its target at connection time",
  },
  args: serverArgs,
  subCommands,
  default: "serve",
  setup({ rawArgs }) {
    const first = rawArgs.find((arg, i) => !arg.startsWith("-") && !isFlagValue(rawArgs, i));
    if (first === undefined) {
      assertKnownFlags(rawArgs, serverArgs);
    } else if (!Object.hasOwn(subCommands, first)) {
      assertKnownFlags(rawArgs.slice(0, rawArgs.indexOf(first)), serverArgs);
      throw new UsageError(
        `unknown command or argument "${first}" (commands: ${Object.keys(subCommands).join(", ")})`,
      );
    }
  },
});

function isFlagValue(rawArgs: readonly string[], index: number): boolean {
  const previous = rawArgs[index - 1];
  if (!previous?.startsWith("--") || previous.includes("=")) return false;
  const def = (serverArgs as Record<string, { type: string }>)[previous.slice(2)];
  return def?.type === "string";
}

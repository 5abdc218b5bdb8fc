import { type ArgsDef, type CommandDef, renderUsage } from "citty";
import { CONNECT_EXAMPLES, CONNECT_REQUIRED } from "./connect-stdio.ts";
import { FORWARD_EXAMPLES, FORWARD_REQUIRED } from "./forward.ts";
import { TICKET_EXAMPLES } from "./ticket.ts";

/** What a client command's `--help` adds to citty's: required flags and worked examples. */
const EXTRAS: Record<string, { required: readonly string[]; examples: readonly string[] }> = {
  forward: { required: FORWARD_REQUIRED, examples: FORWARD_EXAMPLES },
  connect: { required: CONNECT_REQUIRED, examples: CONNECT_EXAMPLES },
  ticket: { required: [], examples: TICKET_EXAMPLES },
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Colour only on a terminal, and never with NO_COLOR (citty colours piped output too). */
export function wantsColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>) {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

/**
 * citty's usage text, without colour where unwanted and without trailing spaces, with required
 * flags marked (citty's own marking would also make it refuse a missing flag with its own error
 * and exit status, before the command's one-line usage error) and examples last.
 */
export function cleanUsage(text: string, name: string | undefined, colour: boolean): string {
  const extras = name === undefined ? undefined : EXTRAS[name];
  const examples = extras?.examples;
  const body = colour ? text : text.replace(ANSI, "");
  const lines = body.split("\n").map((line) => {
    const flag = /^\s*(?:\S*\s)?--([a-z-]+)[=\s]/.exec(line.replace(ANSI, ""))?.[1];
    const required = flag !== undefined && extras?.required.includes(flag);
    return `${line.trimEnd()}${required ? " (required)" : ""}`;
  });
  if (examples && examples.length > 0) {
    while (lines.at(-1) === "") lines.pop();
    lines.push("", "EXAMPLES", "", ...examples.map((example) => `  ${example}`));
  }
  while (lines.at(-1) === "") lines.pop();
  return `${lines.join("\n")}\n`;
}

/** For citty's `runMain({ showUsage })`: prints the usage of `cmd` cleanly. */
export async function showUsage<T extends ArgsDef = ArgsDef>(
  cmd: CommandDef<T>,
  parent?: CommandDef<T>,
): Promise<void> {
  const meta = typeof cmd.meta === "function" ? await cmd.meta() : await cmd.meta;
  const text = await renderUsage(cmd, parent);
  process.stdout.write(cleanUsage(text, meta?.name, wantsColour(process.stdout, process.env)));
}

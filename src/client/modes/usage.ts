import { type ArgsDef, type CommandDef, renderUsage } from "citty";
import { CONNECT_EXAMPLES } from "./connect-stdio.ts";
import { FORWARD_EXAMPLES } from "./forward.ts";
import { TICKET_EXAMPLES } from "./ticket.ts";

/** Worked examples shown at the end of a command's `--help`, by command name. */
const EXAMPLES: Record<string, readonly string[]> = {
  forward: FORWARD_EXAMPLES,
  connect: CONNECT_EXAMPLES,
  ticket: TICKET_EXAMPLES,
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Colour only on a terminal, and never with NO_COLOR (citty colours piped output too). */
export function wantsColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>) {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

/** citty's usage text, without colour where unwanted and without trailing spaces, plus examples. */
export function cleanUsage(text: string, name: string | undefined, colour: boolean): string {
  const examples = name === undefined ? undefined : EXAMPLES[name];
  const body = colour ? text : text.replace(ANSI, "");
  const lines = body.split("\n").map((line) => line.trimEnd());
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

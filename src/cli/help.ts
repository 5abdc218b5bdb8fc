import type { ArgsDef } from "citty";

export interface FlagHelp {
  readonly name: string;
  /** `<file>` after the flag; absent for a switch. */
  readonly hint?: string;
  readonly description: string;
  readonly default?: string;
  readonly required?: boolean;
}

export interface CommandHelp {
  /** `socket2web connect`. */
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly FlagHelp[];
  readonly commands?: readonly { readonly name: string; readonly description: string }[];
  readonly examples: readonly string[];
  /** Closing lines: where else flags can be set, how to get more help. */
  readonly notes?: readonly string[];
}

interface Style {
  heading(text: string): string;
  flag(text: string): string;
  dim(text: string): string;
}

const PLAIN: Style = { heading: (t) => t, flag: (t) => t, dim: (t) => t };
const COLOUR: Style = {
  heading: (t) => `\x1b[1m${t}\x1b[22m`,
  flag: (t) => `\x1b[36m${t}\x1b[39m`,
  dim: (t) => `\x1b[90m${t}\x1b[39m`,
};

/** Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org). */
export function wantsColour(
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb";
}

/** The help text: aligned columns, no trailing spaces, required flags marked, examples last. */
export function renderHelp(help: CommandHelp, colour: boolean): string {
  const style = colour ? COLOUR : PLAIN;
  const hasRequired = help.flags.some((flag) => flag.required);
  const lines = [
    help.description,
    "",
    `${style.heading("USAGE")} ${help.usage}${help.commands ? " [COMMAND]" : ""}${help.flags.length ? " [OPTIONS]" : ""}`,
  ];
  if (help.flags.length > 0) {
    lines.push("", style.heading("OPTIONS"), "");
    const names = help.flags.map((flag) => `--${flag.name}${flag.hint ? `=<${flag.hint}>` : ""}`);
    const width = Math.max(...names.map((name) => name.length));
    help.flags.forEach((flag, i) => {
      const name = names[i] as string;
      const extras = [
        flag.required ? "(required)" : "",
        flag.default !== undefined ? style.dim(`(Default: ${flag.default})`) : "",
      ].filter(Boolean);
      const text = [flag.description, ...extras].join(" ");
      lines.push(`  ${style.flag(name)}${" ".repeat(width - name.length)}  ${text}`);
    });
    if (hasRequired) lines.push("", "Flags marked (required) must be given.");
  }
  if (help.commands?.length) {
    lines.push("", style.heading("COMMANDS"), "");
    const width = Math.max(...help.commands.map((command) => command.name.length));
    for (const command of help.commands) {
      lines.push(
        `  ${style.flag(command.name)}${" ".repeat(width - command.name.length)}  ${command.description}`,
      );
    }
  }
  if (help.examples.length > 0) {
    lines.push("", style.heading("EXAMPLES"), "");
    for (const example of help.examples) lines.push(`  ${example}`);
  }
  if (help.notes?.length) lines.push("", ...help.notes);
  return `${lines.map((line) => line.trimEnd()).join("\n")}\n`;
}

/** The flags of a citty command, for commands that declare their flags as citty args. */
export function flagsOfArgs(args: ArgsDef, required: readonly string[] = []): FlagHelp[] {
  return Object.entries(args)
    .filter(([, def]) => def.type !== "positional")
    .map(([name, def]) => {
      const hint =
        def.type === "boolean" ? undefined : ("valueHint" in def && def.valueHint) || "value";
      const fallback =
        "default" in def && def.default !== undefined ? String(def.default) : undefined;
      return {
        name,
        description: def.description ?? "",
        ...(hint ? { hint } : {}),
        ...(fallback !== undefined ? { default: fallback } : {}),
        ...(required.includes(name) || ("required" in def && def.required)
          ? { required: true }
          : {}),
      };
    });
}

import type { ConsolaReporter, LogObject } from "consola";
import { LogFields } from "./fields.ts";
import { safeLine } from "./safe-text.ts";

/** consola's numeric levels as the JSON lines name them. */
function levelName(level: number): string {
  if (level <= 0) return "error";
  if (level === 1) return "warn";
  if (level <= 3) return "info";
  if (level === 4) return "debug";
  return "trace";
}

export interface LogStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * One JSON object per line: `time` (ISO 8601), `level`, `msg`, then the call's fields and, when
 * an Error was logged, `error` and `stack`. Warnings and errors go to stderr, the rest to stdout,
 * as in the text format.
 */
export function jsonReporter(streams: LogStreams): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const line: Record<string, unknown> = {
        time: entry.date.toISOString(),
        level: levelName(entry.level),
        msg: "",
      };
      if (entry.tag) line.tag = entry.tag;
      const words: string[] = [];
      for (const arg of entry.args) {
        if (arg instanceof LogFields) {
          for (const [key, value] of Object.entries(arg.values)) {
            if (value !== undefined) line[key] = value;
          }
        } else if (arg instanceof Error) {
          line.error = arg.message;
          if (arg.stack) line.stack = arg.stack;
        } else {
          words.push(typeof arg === "string" ? arg : safeJson(arg));
        }
      }
      line.msg = words.join(" ").replace(/:$/, "");
      const stream = entry.level <= 1 ? streams.stderr : streams.stdout;
      stream.write(`${JSON.stringify(line)}\n`);
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The text reporters print the message only: it already says what the fields hold. Each string is
 * escaped and capped (safe-text.ts), so no client-chosen text can forge a line or flood one.
 */
export function withoutFields(reporter: ConsolaReporter): ConsolaReporter {
  return {
    log(entry, context) {
      const args = entry.args
        .filter((arg) => !(arg instanceof LogFields))
        .map((arg) => (typeof arg === "string" ? safeLine(arg) : arg));
      reporter.log({ ...entry, args }, context);
    },
  };
}

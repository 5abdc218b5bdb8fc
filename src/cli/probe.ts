import { defineCommand } from "citty";
import { UsageError } from "../config/usage-error.ts";
import { probe } from "../metrics/probe.ts";

export const PROBE_EXAMPLES = [
  "socket2web probe http://127.0.0.1:9090/healthz",
  "socket2web probe http://127.0.0.1:9090/readyz",
];

export const probeArgs = {
  url: {
    type: "positional",
    description: "The endpoint to check, e.g. http://127.0.0.1:9090/healthz",
    // Checked in `run`, which words the usage error like every other command's.
    required: false,
  },
} as const;

/**
 * `socket2web probe URL`: exit 0 when the URL answers HTTP 200, 1 otherwise, with one line
 * saying what it got. For health checks in images without curl (deploy/Dockerfile).
 */
export const probeCommand = defineCommand({
  meta: {
    name: "probe",
    description: "Check a health endpoint: exit 0 on HTTP 200 (for container health checks)",
  },
  args: probeArgs,
  async run({ rawArgs }) {
    const [url, ...rest] = rawArgs;
    if (url === undefined || url.startsWith("-") || rest.length > 0) {
      throw new UsageError(
        `probe takes one URL, e.g. socket2web probe http://127.0.0.1:9090/healthz; got ${JSON.stringify(rawArgs.join(" "))}`,
      );
    }
    const result = await probe(url);
    if (result.healthy) {
      process.stdout.write(`${result.message}\n`);
      return;
    }
    process.stderr.write(`socket2web probe: ${result.message}\n`);
    process.exitCode = 1;
  },
});

import { describe, expect, test } from "bun:test";
import { proxyCommand } from "../helpers/proxy.ts";

/**
 * Runs `--help` with stdout piped and no colour-suppressing variable set, so that colour would
 * show if the command printed it (citty colours piped output unless told otherwise).
 */
async function help(command: string): Promise<string> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of ["NO_COLOR", "CI", "TEST", "TERM"]) delete env[name];
  const proc = Bun.spawn([...proxyCommand(), command, "--help"], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env,
  });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  return stdout;
}

describe.each(["connect", "forward", "ticket"])("socket2web %s --help", (command) => {
  test("has no colour codes and no trailing spaces when piped, and ends with examples", async () => {
    const text = await help(command);
    expect(text).not.toContain("\u001b[");
    expect(text.split("\n").filter((line) => line !== line.trimEnd())).toEqual([]);
    expect(text).toContain("\nEXAMPLES\n");
    expect(text).toContain(`  socket2web ${command} `);
  });
});

describe("client help texts", () => {
  test("connect marks --server and --target required and does not offer --log-level", async () => {
    const text = await help("connect");
    expect(text).toMatch(/--server=\S+ +.*\(required\)/);
    expect(text).toMatch(/--target=\S+ +.*\(required\)/);
    for (const flag of ["--origin", "--header", "--field", "--linger", "--token", "--ca"]) {
      expect(text).toContain(flag);
    }
    expect(text).not.toContain("--log-level");
  });

  test("forward marks --listen required and offers --log-level", async () => {
    const text = await help("forward");
    expect(text).toMatch(/--listen=\S+ +.*\(required\)/);
    expect(text).toContain("--log-level");
  });
});

import { UsageError } from "../config/usage-error.ts";
import { systemResolver } from "../net/resolver.ts";
import { TEST_HOSTS_ENV, testHostsResolver } from "../process/test-hosts.ts";
import type { Notice } from "../server/start.ts";
import { exitOnError } from "./exit.ts";
import { runCli } from "./run.ts";

/** The test-only host table, injected here so that production configuration never reads it. */
function chooseResolver(env: Readonly<Record<string, string | undefined>>) {
  try {
    const testResolver = testHostsResolver(env);
    if (!testResolver) return { resolver: systemResolver, notices: [] as Notice[] };
    const notice: Notice = {
      level: "warn",
      text: `${TEST_HOSTS_ENV} is set: host names resolve from it only (a testing aid)`,
    };
    return { resolver: testResolver, notices: [notice] };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The program: the command line, with the process's environment and the system's resolver. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await runCli(argv, { env: process.env, resolver: () => chooseResolver(process.env) });
  } catch (error) {
    exitOnError(error);
  }
}

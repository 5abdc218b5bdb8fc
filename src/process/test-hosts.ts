import { mapResolver, type Resolver } from "../net/resolver.ts";

/**
 * A testing aid, not a feature: when SOCKET2WEB_TEST_HOSTS holds a JSON object of names to
 * addresses (`{"evil.test":["169.254.169.254"]}`), the server resolves names from it alone and
 * never asks DNS, so end-to-end tests of name-based policy stay on loopback. Names not in the map
 * fail as unresolvable. Returns undefined when the variable is unset.
 */
export const TEST_HOSTS_ENV = "SOCKET2WEB_TEST_HOSTS";

export function testHostsResolver(
  env: Readonly<Record<string, string | undefined>>,
): Resolver | undefined {
  const text = env[TEST_HOSTS_ENV];
  if (text === undefined) return undefined;
  let table: unknown;
  try {
    table = JSON.parse(text);
  } catch {
    throw new Error(`${TEST_HOSTS_ENV} is not valid JSON`);
  }
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new Error(`${TEST_HOSTS_ENV} must be a JSON object of names to addresses`);
  }
  return mapResolver(table as Record<string, string | string[]>);
}

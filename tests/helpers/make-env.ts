/**
 * The environment a user's own `make` runs with: this one without what a parent `make` passes its
 * sub-makes (`make test` runs the suites with -j2 and --output-sync, which a test's `make` would
 * otherwise inherit, with a jobserver it cannot reach).
 */
export function userMakeEnv(
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const {
    MAKEFLAGS: _flags,
    MFLAGS: _mflags,
    MAKELEVEL: _level,
    MAKEOVERRIDES: _overrides,
    ...env
  } = process.env;
  return { ...env, ...extra };
}

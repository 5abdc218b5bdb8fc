import { parseRoute, RouteError, routeTable } from "../front-ends/raw/route.ts";
import {
  loadTokenSource,
  type TokenSnapshot,
  type TokenSource,
  TokenSourceError,
} from "../front-ends/raw/token-source.ts";
import type { FixedTarget } from "../net/target-text.ts";
import type { Origins } from "./load.ts";
import type { Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/** --route and --token-file, read and checked before anything listens. */
export interface LoadedFixedTargets {
  readonly routes: ReadonlyMap<string, FixedTarget>;
  readonly tokens: TokenSource | undefined;
  /** The first reading of --token-file: its skipped lines are logged at start-up. */
  readonly snapshot: TokenSnapshot | undefined;
}

/** A route that does not parse, or a token path that cannot be read, is a usage error (exit 2). */
export async function loadFixedTargets(
  settings: Settings,
  origins: Origins,
): Promise<LoadedFixedTargets> {
  const routeLabel = origins.route.label;
  let routes: ReadonlyMap<string, FixedTarget>;
  try {
    routes = routeTable(settings.route.map(parseRoute));
  } catch (error) {
    if (error instanceof RouteError) throw new UsageError(`${routeLabel}: ${error.message}`);
    throw error;
  }
  const path = settings["token-file"];
  if (path === undefined) return { routes, tokens: undefined, snapshot: undefined };
  try {
    const { source, snapshot } = await loadTokenSource(path);
    return { routes, tokens: source, snapshot };
  } catch (error) {
    if (error instanceof TokenSourceError) {
      throw new UsageError(`${origins["token-file"].label}: ${error.message}`);
    }
    throw error;
  }
}

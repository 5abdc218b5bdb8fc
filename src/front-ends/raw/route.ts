import { type FixedTarget, parseTargetWithOptions } from "../../net/target-text.ts";

/** `--route PATH=HOST:PORT [proxy-protocol=v1|v2|off]`: every upgrade on PATH goes to one target. */
export interface Route {
  readonly path: string;
  readonly target: FixedTarget;
}

export class RouteError extends Error {
  override readonly name = "RouteError";
}

export function parseRoute(text: string): Route {
  const equals = text.indexOf("=");
  if (equals < 0) throw new RouteError(`expected PATH=HOST:PORT, got "${text}"`);
  const path = text.slice(0, equals);
  if (!path.startsWith("/") || /[?#\s]/.test(path)) {
    throw new RouteError(`the path of "${text}" must start with / and hold no ?, # or space`);
  }
  const target = parseTargetWithOptions(text.slice(equals + 1));
  if (typeof target === "string") throw new RouteError(target);
  return { path, target };
}

/** Routes by exact path; giving a path twice is a mistake worth stopping for. */
export function routeTable(routes: readonly Route[]): ReadonlyMap<string, FixedTarget> {
  const table = new Map<string, FixedTarget>();
  for (const route of routes) {
    if (table.has(route.path)) throw new RouteError(`the path ${route.path} is routed twice`);
    table.set(route.path, route.target);
  }
  return table;
}

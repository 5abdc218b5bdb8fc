import type { SessionView } from "./view.ts";

/** What `GET /sessions` asks: filters, order and one page. */
export interface SessionQuery {
  readonly principal?: string | undefined;
  readonly target?: string | undefined;
  readonly frontend?: string | undefined;
  readonly sort: SortKey;
  readonly descending: boolean;
  readonly offset: number;
  readonly limit: number;
  /** `instance`: this instance's sessions (its workers' too); `fleet`: every instance's (`--state`). */
  readonly scope: "instance" | "fleet";
}

export const SORT_KEYS = [
  "started",
  "id",
  "principal",
  "target",
  "bytes_up",
  "bytes_down",
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const DEFAULT_LIMIT = 100;
/** The most sessions one answer holds: the rest are pages away, so an answer stays small. */
export const MAX_LIMIT = 1000;
const MAX_OFFSET = 10_000_000;

/** The parameters each filter reads; anything else is an error, so a typo never widens a kill. */
const FILTERS = ["principal", "target", "frontend"] as const;
const KNOWN = new Set<string>([...FILTERS, "sort", "offset", "limit", "scope"]);

/** A query string's meaning, or a sentence saying what is wrong with it. */
export function parseQuery(params: URLSearchParams): SessionQuery | string {
  for (const name of params.keys()) {
    if (!KNOWN.has(name)) {
      return `unknown parameter ${JSON.stringify(name)} (known: ${[...KNOWN].join(", ")})`;
    }
    if (params.getAll(name).length > 1) return `parameter ${name} is given more than once`;
  }
  const sortText = params.get("sort") ?? "started";
  const descending = sortText.startsWith("-");
  const sort = (descending ? sortText.slice(1) : sortText) as SortKey;
  if (!SORT_KEYS.includes(sort)) {
    return `sort must be one of ${SORT_KEYS.join(", ")}, optionally with a leading - for descending; got ${JSON.stringify(sortText)}`;
  }
  const offset = wholeParam(params, "offset", 0, MAX_OFFSET, 0);
  if (typeof offset === "string") return offset;
  const limit = wholeParam(params, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
  if (typeof limit === "string") return limit;
  const scope = params.get("scope") ?? "instance";
  if (scope !== "instance" && scope !== "fleet") {
    return `scope must be instance or fleet, got ${JSON.stringify(scope)}`;
  }
  const query: SessionQuery = { sort, descending, offset, limit, scope };
  const filters: Record<string, string> = {};
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value === null) continue;
    if (value === "") return `${name} is empty: give a value or leave the parameter out`;
    filters[name] = value;
  }
  return { ...query, ...filters };
}

function wholeParam(
  params: URLSearchParams,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number | string {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    return `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`;
  }
  return value;
}

export function matches(
  view: SessionView,
  query: Pick<SessionQuery, "principal" | "target" | "frontend">,
): boolean {
  return (
    (query.principal === undefined || view.principal === query.principal) &&
    (query.target === undefined || view.target === query.target) &&
    (query.frontend === undefined || view.frontend === query.frontend)
  );
}

/** Ids compare by worker, then by number: `w1-9` before `w1-10` before `w2-1`. */
function idParts(id: string): [number, number] {
  const match = /^(?:w(\d+)-)?(\d+)$/.exec(id);
  return match ? [Number(match[1] ?? 0), Number(match[2])] : [0, 0];
}

function compareIds(a: string, b: string): number {
  const [workerA, numberA] = idParts(a);
  const [workerB, numberB] = idParts(b);
  return workerA - workerB || numberA - numberB;
}

function compareBy(key: SortKey, a: SessionView, b: SessionView): number {
  switch (key) {
    case "id":
      return compareIds(a.id, b.id);
    case "bytes_up":
    case "bytes_down":
      return a[key] - b[key];
    default: {
      const left = a[key] ?? "";
      const right = b[key] ?? "";
      return left < right ? -1 : left > right ? 1 : 0;
    }
  }
}

/** Sorts in place by the query's key; ties by id, always ascending, so pages are stable. */
export function sortViews(
  views: SessionView[],
  query: Pick<SessionQuery, "sort" | "descending">,
): SessionView[] {
  const sign = query.descending ? -1 : 1;
  return views.sort(
    (a, b) =>
      sign * compareBy(query.sort, a, b) ||
      compareIds(a.id, b.id) ||
      // Across a fleet ids repeat: the instance decides.
      (a.instance ?? "").localeCompare(b.instance ?? ""),
  );
}

/** What one process (or the supervisor, for all of them) answers. */
export interface SessionPage {
  readonly sessions: readonly SessionView[];
  /** Sessions matching the filters, on every page. */
  readonly total: number;
  /** Across a fleet: instances that heard the question and did not answer in time. */
  readonly unanswered?: number;
}

/** Whether an answer from another process (a worker, an instance) is a page. */
export const isPage = (value: unknown): value is SessionPage =>
  typeof value === "object" &&
  value !== null &&
  Array.isArray((value as SessionPage).sessions) &&
  typeof (value as SessionPage).total === "number";

/** Filters, sorts and keeps the first `offset + limit`: enough for any merge of such lists. */
export function selectViews(views: readonly SessionView[], query: SessionQuery): SessionPage {
  const chosen = sortViews(
    views.filter((view) => matches(view, query)),
    query,
  );
  return { sessions: chosen.slice(0, query.offset + query.limit), total: chosen.length };
}

/** The API's answer: one page of the sorted, filtered sessions, and where the next one starts. */
export function pageOf(selected: SessionPage, query: SessionQuery) {
  const sessions = selected.sessions.slice(query.offset, query.offset + query.limit);
  const next = query.offset + sessions.length;
  return {
    sessions,
    total: selected.total,
    offset: query.offset,
    limit: query.limit,
    next_offset: next < selected.total ? next : null,
    ...(selected.unanswered !== undefined ? { unanswered: selected.unanswered } : {}),
  };
}

/** Several processes' selections as one (the supervisor's merge of its workers'). */
export function mergePages(pages: readonly SessionPage[], query: SessionQuery): SessionPage {
  const all = sortViews(
    pages.flatMap((page) => page.sessions),
    query,
  );
  return {
    sessions: all.slice(0, query.offset + query.limit),
    total: pages.reduce((sum, page) => sum + page.total, 0),
  };
}

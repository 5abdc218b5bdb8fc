import { describe, expect, it, test } from "bun:test";
import { createTokenSet } from "../../auth/tokens.ts";
import { createSessionsApi, MAX_QUEUED_EVENTS, refusalUntil } from "./api.ts";
import type { SessionEvent, SessionsBackend } from "./table.ts";
import type { SessionView } from "./view.ts";

const VIEW: SessionView = {
  id: "1",
  principal: "alice",
  client: "127.0.0.1:5000",
  frontend: "socket2web",
  protocol: "tcp",
  target: "127.0.0.1:22",
  connected_to: "127.0.0.1:22",
  state: "proxying",
  started: new Date(0).toISOString(),
  bytes_up: 0,
  bytes_down: 0,
  paused: null,
};

/** A backend whose events the test sends itself. */
function backendWithEvents() {
  const listeners = new Set<(event: SessionEvent) => void>();
  const backend: SessionsBackend = {
    fleetWide: false,
    list: async () => ({ sessions: [], total: 0 }),
    kill: async () => "unknown",
    killPrincipal: async () => ({ ended: [] }),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    backend,
    listeners,
    emit(event: SessionEvent) {
      for (const listener of listeners) listener(event);
    },
  };
}

const request = (path: string) =>
  new Request(`http://127.0.0.1${path}`, { headers: { authorization: "Bearer t0ken" } });

test("a malformed id is a 404 that names the paths, not an error", async () => {
  const { backend } = backendWithEvents();
  const api = createSessionsApi(createTokenSet(["t0ken"]), backend);
  const response = await api(
    new Request("http://127.0.0.1/sessions/%E0%A4%A", {
      method: "DELETE",
      headers: { authorization: "Bearer t0ken" },
    }),
    "/sessions/%E0%A4%A",
    () => {},
  );
  expect(response.status).toBe(404);
  expect(await response.text()).toContain("/sessions/ID");
});

describe("GET /sessions/events", () => {
  test("a subscriber that does not read is dropped with a last event, not buffered without bound", async () => {
    const { backend, listeners, emit } = backendWithEvents();
    const api = createSessionsApi(createTokenSet(["t0ken"]), backend);
    const response = await api(request("/sessions/events"), "/sessions/events", () => {});
    expect(listeners.size).toBe(1);
    for (let i = 0; i < MAX_QUEUED_EVENTS * 3; i++) emit({ event: "opened", session: VIEW });
    // Dropped once its queue was full: the rest were never queued.
    expect(listeners.size).toBe(0);
    const text = await response.text();
    const events = text.split("\n\n").filter((block) => block.startsWith("event: "));
    expect(events.length).toBeLessThanOrEqual(MAX_QUEUED_EVENTS + 1);
    expect(events.at(-1)).toStartWith("event: dropped\n");
  });

  test("filters apply to events, and a reader that leaves unsubscribes", async () => {
    const { backend, listeners, emit } = backendWithEvents();
    const api = createSessionsApi(createTokenSet(["t0ken"]), backend);
    const response = await api(
      request("/sessions/events?principal=bob"),
      "/sessions/events",
      () => {},
    );
    emit({ event: "opened", session: VIEW });
    emit({ event: "opened", session: { ...VIEW, id: "2", principal: "bob" } });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes('"id":"2"'))
      text += new TextDecoder().decode((await reader.read()).value);
    expect(text).not.toContain('"id":"1"');
    await reader.cancel();
    expect(listeners.size).toBe(0);
  });
});

describe("refusalUntil", () => {
  const now = Date.parse("2026-12-06T10:00:00Z");
  it.each([
    ["2026-12-06T11:00:00Z", Date.parse("2026-12-06T11:00:00Z")],
    ["2026-12-06T12:00:00+01:00", Date.parse("2026-12-06T11:00:00Z")],
    ["2026-12-06T10:30:00.250Z", Date.parse("2026-12-06T10:30:00.250Z")],
  ])("%s is a time to refuse until", (text, at) => {
    expect(refusalUntil(text, now)).toBe(at);
  });
  it.each([
    ["2026-12-06T11:00:00", "until must be a time with its zone"],
    ["tomorrow", "until must be a time with its zone"],
    ["2026-12-06T09:00:00Z", "until is in the past"],
    ["2028-12-06T09:00:00Z", "more than 366 days away"],
  ])("%s: %s", (text, message) => {
    expect(String(refusalUntil(text, now))).toContain(message);
  });
});

import { describe, expect, test } from "bun:test";
import { mergePages, pageOf, parseQuery, type SessionQuery, selectViews } from "./query.ts";
import type { SessionView } from "./view.ts";

const view = (id: string, bytes: number, principal = "anonymous"): SessionView => ({
  id,
  principal,
  client: "127.0.0.1:1",
  frontend: "socket2web",
  protocol: "tcp",
  target: "127.0.0.1:22",
  connected_to: "127.0.0.1:22",
  state: "proxying",
  started: new Date(1000 - bytes).toISOString(),
  bytes_up: bytes,
  bytes_down: 0,
  paused: null,
});

const query = (text: string) => parseQuery(new URLSearchParams(text)) as SessionQuery;

describe("parseQuery", () => {
  test.each([
    ["limit=0", "limit must be a whole number from 1 to 1000"],
    ["limit=1001", "limit must be"],
    ["offset=-1", "offset must be"],
    ["sort=size", "sort must be one of"],
    ["princpal=alice", 'unknown parameter "princpal"'],
    ["principal=a&principal=b", "principal is given more than once"],
    ["target=", "target is empty"],
  ])("%s: %s", (text, message) => {
    expect(parseQuery(new URLSearchParams(text))).toContain(message);
  });

  test("defaults: oldest first, 100 a page", () => {
    expect(query("")).toEqual({
      sort: "started",
      descending: false,
      offset: 0,
      limit: 100,
      scope: "instance",
    });
    expect(query("sort=-bytes_up&principal=alice")).toMatchObject({
      sort: "bytes_up",
      descending: true,
      principal: "alice",
    });
  });
});

describe("pages over several workers", () => {
  test("merging each worker's first offset+limit gives the same page as one list of all", () => {
    const one = [view("w1-1", 5), view("w1-2", 1), view("w1-3", 9), view("w1-4", 3, "bob")];
    const two = [view("w2-1", 4), view("w2-2", 8), view("w2-3", 2)];
    for (const text of [
      "sort=bytes_up&limit=2&offset=2",
      "sort=-bytes_up&limit=3",
      "sort=id&limit=2&offset=4",
      "principal=bob",
    ]) {
      const q = query(text);
      const merged = pageOf(mergePages([selectViews(one, q), selectViews(two, q)], q), q);
      const whole = pageOf(selectViews([...one, ...two], q), q);
      expect(merged).toEqual(whole);
    }
  });

  test("ids sort by worker, then number", () => {
    const q = query("sort=id");
    const ids = selectViews([view("w2-1", 0), view("w1-10", 0), view("w1-9", 0)], q).sessions;
    expect(ids.map((v) => v.id)).toEqual(["w1-9", "w1-10", "w2-1"]);
  });
});

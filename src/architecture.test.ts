import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = import.meta.dir;
const IMPORT = /\bfrom\s+"(\.{1,2}\/[^"]+)"/g;

/** Folder → the folders its non-test modules import from (tests may reach anywhere). */
function folderArrows(): Map<string, Set<string>> {
  const arrows = new Map<string, Set<string>>();
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter(
    (file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && file.includes("/"),
  );
  for (const file of files) {
    const from = file.split("/")[0] as string;
    for (const match of readFileSync(join(SRC, file), "utf8").matchAll(IMPORT)) {
      const target = relative(SRC, resolve(dirname(join(SRC, file)), match[1] as string));
      const to = target.split("/")[0] as string;
      if (!target.includes("/") || to === from) continue;
      if (!arrows.has(from)) arrows.set(from, new Set());
      arrows.get(from)?.add(to);
    }
  }
  return arrows;
}

function findCycle(arrows: Map<string, Set<string>>): string[] | undefined {
  const done = new Set<string>();
  const visit = (node: string, path: string[]): string[] | undefined => {
    const loopAt = path.indexOf(node);
    if (loopAt >= 0) return [...path.slice(loopAt), node];
    if (done.has(node)) return undefined;
    for (const next of arrows.get(node) ?? []) {
      const cycle = visit(next, [...path, node]);
      if (cycle) return cycle;
    }
    done.add(node);
    return undefined;
  };
  for (const node of arrows.keys()) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return undefined;
}

const ARCHITECTURE_DOC = join(SRC, "..", "docs", "architecture.md");

/** The import order docs/architecture.md states: its line of folder names joined by arrows. */
function documentedOrder(): string[] {
  const line = readFileSync(ARCHITECTURE_DOC, "utf8")
    .split("\n")
    .find((text) => /^[a-z-]+( → [a-z-]+){5,}$/.test(text.trim()));
  return line ? line.trim().split(" → ") : [];
}

const srcFolders = () =>
  readdirSync(SRC, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

describe("docs/architecture.md tells the truth about src/", () => {
  it("its order names every folder of src/ once", () => {
    const order = documentedOrder();
    expect(order.toSorted()).toEqual(srcFolders().toSorted());
  });

  it("every import between folders goes down that order, never up", () => {
    const order = documentedOrder();
    const upward: string[] = [];
    for (const [from, targets] of folderArrows()) {
      for (const to of targets) {
        if (order.indexOf(from) > order.indexOf(to)) upward.push(`${from} → ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("its folder table has a row for every folder", () => {
    const text = readFileSync(ARCHITECTURE_DOC, "utf8");
    const missing = srcFolders().filter((folder) => !text.includes(`| \`${folder}/\` |`));
    expect(missing).toEqual([]);
  });
});

describe("imports between folders of src/ run one way", () => {
  it("no folder imports, directly or round a loop, a folder that imports it", () => {
    expect(findCycle(folderArrows())).toBeUndefined();
  });

  it("the check sees a loop when there is one", () => {
    const arrows = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a"])],
    ]);
    expect(findCycle(arrows)).toEqual(["a", "b", "c", "a"]);
  });

  it("the server wiring reaches the session, never the other way", () => {
    const arrows = folderArrows();
    expect(arrows.get("server")?.has("session")).toBe(true);
    expect(arrows.get("session")?.has("server") ?? false).toBe(false);
  });
});

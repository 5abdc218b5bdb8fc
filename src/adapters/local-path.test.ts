import { afterAll, describe, expect, it } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPathAllowList } from "./local-path.ts";

// A real directory tree: allowed/ (with a link inside pointing out), outside/.
const root = mkdtempSync(join(tmpdir(), "socket2web-path-"));
const allowed = join(root, "allowed");
const outside = join(root, "outside");
mkdirSync(join(allowed, "sub"), { recursive: true });
mkdirSync(outside);
for (const file of [
  join(allowed, "app.sock"),
  join(allowed, "sub", "b.sock"),
  join(outside, "x.sock"),
])
  writeFileSync(file, "");
symlinkSync(join(outside, "x.sock"), join(allowed, "escape.sock"));
symlinkSync(outside, join(allowed, "outdir"));
symlinkSync(join(allowed, "app.sock"), join(allowed, "alias.sock"));
symlinkSync(join(root, "nowhere.sock"), join(allowed, "dangling.sock"));
symlinkSync(allowed, join(root, "allowed-link"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const list = createPathAllowList([allowed]);

describe("createPathAllowList", () => {
  it.each([
    ["app.sock", join(allowed, "app.sock")],
    ["sub/b.sock", join(allowed, "sub", "b.sock")],
    ["sub/../app.sock", join(allowed, "app.sock")],
    ["alias.sock", join(allowed, "app.sock")],
  ])("%s inside the prefix resolves to its real path", async (relative, real) => {
    expect(await list.check(join(allowed, relative))).toEqual({ ok: true, path: real });
  });

  it.each([
    ["PREFIX/../outside/x.sock", () => `${allowed}/../outside/x.sock`],
    ["a path outside every prefix", () => join(outside, "x.sock")],
    ["a sibling whose name starts with the prefix", () => `${allowed}-other/a.sock`],
    ["a symlink inside pointing outside", () => join(allowed, "escape.sock")],
    ["a path through a linked directory pointing outside", () => join(allowed, "outdir", "x.sock")],
  ])("%s is forbidden", async (_, path) => {
    const result = await list.check(path());
    expect(result).toMatchObject({ ok: false, error: "forbidden" });
  });

  it("a missing file or a dangling link inside the prefix is connect_failed, never connected", async () => {
    expect(await list.check(join(allowed, "missing.sock"))).toMatchObject({
      ok: false,
      error: "connect_failed",
      reason: expect.stringContaining("ENOENT"),
    });
    expect(await list.check(join(allowed, "dangling.sock"))).toMatchObject({
      ok: false,
      error: "connect_failed",
    });
  });

  it("a prefix given through a link matches the real paths below it; a file prefix matches itself", async () => {
    const linked = createPathAllowList([join(root, "allowed-link")]);
    expect(linked.prefixes).toEqual([allowed]);
    expect(await linked.check(join(allowed, "app.sock"))).toMatchObject({ ok: true });
    expect(await linked.check(join(root, "allowed-link", "app.sock"))).toEqual({
      ok: true,
      path: join(allowed, "app.sock"),
    });
    expect(await linked.check(join(root, "allowed-link", "escape.sock"))).toMatchObject({
      error: "forbidden",
    });
    const single = createPathAllowList([join(allowed, "app.sock")]);
    expect(await single.check(join(allowed, "app.sock"))).toMatchObject({ ok: true });
    expect(await single.check(join(allowed, "sub", "b.sock"))).toMatchObject({
      error: "forbidden",
    });
  });
});

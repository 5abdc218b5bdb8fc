import { describe, expect, test } from "bun:test";
import { fileLimitWarning, openFileLimit } from "./file-limit.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
`;

describe("open file limit", () => {
  test("reads the soft limit from /proc/self/limits text", () => {
    expect(openFileLimit(LIMITS)).toBe(20000);
    expect(openFileLimit("nothing here")).toBeUndefined();
  });

  test("this process has one on Linux", () => {
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  test.each([
    [1000, 20000, false],
    [9968, 20000, false],
    [9969, 20000, true],
    [10000, 20000, true],
    [10000, undefined, false],
  ])("max-connections %d with limit %p warns: %p", (max, limit, warns) => {
    const warning = fileLimitWarning(max, limit);
    expect(warning !== undefined).toBe(warns);
    if (warning) expect(warning).toContain(`limit is ${limit}`);
  });
});

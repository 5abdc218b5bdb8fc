import { describe, expect, it } from "bun:test";
import { allowedIn, envName, SETTINGS, type Setting } from "./settings.ts";

const docs = await Bun.file(new URL("../../docs/configuration.md", import.meta.url)).text();

describe("the settings table", () => {
  it.each(Object.entries(SETTINGS) as [string, Setting][])(
    "%s has a row in docs/configuration.md",
    (key, setting) => {
      const row = docs
        .split("\n")
        .find(
          (line) =>
            line.startsWith("|") &&
            (line.includes(`\`--${key} `) ||
              line.includes(`\`--${key}\``) ||
              line.includes(`\`${envName(key)}\``)),
        );
      expect(row).toBeDefined();
      if (allowedIn(setting, "env")) expect(row).toContain(envName(key));
    },
  );

  it("has a description for every setting and a hint for every value", () => {
    for (const setting of Object.values(SETTINGS) as Setting[]) {
      expect(setting.description.length).toBeGreaterThan(0);
      if (setting.kind !== "switch") expect(setting.hint.length).toBeGreaterThan(0);
    }
  });
});

// Debian's Chromium driven by playwright-core, launched the one way every browser test uses.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface HeadlessChromium {
  readonly context: BrowserContext;
  /** The context's first tab (Chromium opens one with a persistent profile). */
  page(): Promise<Page>;
  /** Closes the browser and removes its throwaway profile. */
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /** Names the tests in the skip warning, e.g. "noVNC tests". */
  readonly label: string;
  /** Prefix of the throwaway profile folder. */
  readonly profilePrefix: string;
  /** Extra playwright context options (downloads, viewport). */
  readonly context?: Parameters<typeof chromium.launchPersistentContext>[1];
  /** Extra Chromium flags, after the usual ones. */
  readonly args?: readonly string[];
}

/** The browser, or undefined when Chromium cannot start here (the caller skips, saying so). */
export async function launchChromium(
  options: ChromiumOptions,
): Promise<HeadlessChromium | undefined> {
  const profile = mkdtempSync(join(tmpdir(), options.profilePrefix));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      ...options.context,
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      timeout: 15_000,
    });
  } catch (error) {
    removeProfile();
    console.warn(
      `SKIPPING ${options.label}: Chromium cannot start (${(error as Error).message.split("\n")[0]}); ` +
        "run tests/setup/install-chromium.sh",
    );
    return undefined;
  }
  return {
    context,
    page: async () => context.pages()[0] ?? (await context.newPage()),
    close: async () => {
      await context.close();
      removeProfile();
    },
  };
}

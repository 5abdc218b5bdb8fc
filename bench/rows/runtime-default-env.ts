/**
 * Bun's own runtime settings (freed memory returned after 100 ms, JavaScriptCore's FTL tier on),
 * named in the environment so that socket2web keeps them: the row without the start-up restart
 * that gives socket2web its runtime settings (src/process/runtime-restart.ts), to show what that
 * restart buys.
 */
export const BUN_RUNTIME_DEFAULTS: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_DELAY: "100",
  BUN_JSC_useFTLJIT: "true",
};

/**
 * Bun's own allocator setting (freed memory returned after 100 ms), named in the environment so
 * that socket2web keeps it: the row without the start-up restart that gives socket2web a 1 s
 * purge delay (src/process/allocator-restart.ts), to show what that restart buys.
 */
export const BUN_ALLOCATOR_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "100" };

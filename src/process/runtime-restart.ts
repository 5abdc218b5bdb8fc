/**
 * Runtime settings socket2web starts with, each read once as the process starts (so set only by
 * starting again); a value already in the environment is the operator's and is kept.
 */
export const RUNTIME_SETTINGS: Readonly<Record<string, string>> = {
  /**
   * mimalloc hands freed memory back after 1 s, not Bun's 100 ms: the buffers Bun allocates for
   * each WebSocket message and socket read are then reused rather than faulted in afresh, a fifth
   * to a quarter less CPU per MiB relayed (docs/operations.md).
   */
  MIMALLOC_PURGE_DELAY: "1000",
  /**
   * JavaScriptCore's optimizing tiers stop at DFG: socket2web's JavaScript is glue around Bun's
   * native sockets, where FTL's code ran no faster, and its compiles were most of the JIT's CPU
   * (docs/operations.md).
   */
  BUN_JSC_useFTLJIT: "false",
};

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The entries of a block as /proc gives it, each with its NUL: "a\0\0b\0" is "a", "" and "b"
 * (an empty argument is an argument).
 */
export function blockEntries(block: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let start = 0;
  for (let end = block.indexOf(0); end !== -1; end = block.indexOf(0, start)) {
    entries.push(block.subarray(start, end + 1));
    start = end + 1;
  }
  return entries;
}

// Bun.file, not node:fs: loading node:fs would cost more than the rest of the restart.
const entriesOf = async (path: string) => blockEntries(await Bun.file(path).bytes());

/** A NULL-terminated array of pointers to the given NUL-terminated strings. */
function pointerTable(
  strings: readonly Uint8Array[],
  ptr: (view: Uint8Array) => number,
): BigUint64Array {
  const table = new BigUint64Array(strings.length + 1);
  strings.forEach((string, i) => {
    table[i] = BigInt(ptr(string));
  });
  return table;
}

/** `NAME=value\0` for each setting the environment does not name yet, in RUNTIME_SETTINGS' order. */
export function missingSettings(env: Env): string[] {
  return Object.entries(RUNTIME_SETTINGS)
    .filter(([name]) => env[name] === undefined)
    .map(([name, value]) => `${name}=${value}\0`);
}

/**
 * On Linux, unless the environment already names every setting (the operator's choice, or this
 * restart's), this replaces the process with itself through `execve`: same PID, arguments and
 * descriptors, the environment plus the settings it lacked. It costs one runtime start (about
 * 30 ms) before any module of the program is loaded. Returns only when it did not restart
 * (another system, no /proc, no glibc, or `execve` refused), and the program runs as it is.
 */
export async function restartWithRuntimeSettings(env: Env = process.env): Promise<void> {
  const missing = missingSettings(env);
  if (process.platform !== "linux" || missing.length === 0) return;
  try {
    const args = await entriesOf("/proc/self/cmdline");
    const environment = await entriesOf("/proc/self/environ");
    for (const setting of missing) environment.push(Buffer.from(setting));
    const { dlopen, FFIType, ptr } = await import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    });
    const self = Buffer.from("/proc/self/exe\0");
    const argv = pointerTable(args, ptr);
    const envp = pointerTable(environment, ptr);
    libc.symbols.execve(ptr(self), ptr(argv), ptr(envp));
    libc.close();
  } catch {
    // Not glibc (dlopen failed) or no /proc: the defaults stay.
  }
}

import { tcp } from "./tcp.ts";
import type { AnyProtocolAdapter } from "./types.ts";

/** Every adapter this build ships, by name. */
export const builtinAdapters: readonly AnyProtocolAdapter[] = [tcp];

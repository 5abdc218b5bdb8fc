import { tcp } from "./tcp.ts";
import type { ProtocolAdapter } from "./types.ts";

/** Every adapter this build ships, by name. */
export const builtinAdapters: readonly ProtocolAdapter<any>[] = [tcp];

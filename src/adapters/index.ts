import { type AdapterSettings, DEFAULT_ADAPTER_SETTINGS } from "./settings.ts";
import { tcp } from "./tcp.ts";
import { tls } from "./tls.ts";
import type { AnyProtocolAdapter } from "./types.ts";
import { udp } from "./udp.ts";
import { unix } from "./unix.ts";

/** An adapter made from the server's settings; `undefined` when the settings leave it off. */
export type AdapterFactory = (settings: AdapterSettings) => AnyProtocolAdapter | undefined;

/** Every adapter this build ships, in greeting order: one line per adapter. */
const BUILTIN: readonly AdapterFactory[] = [() => tcp, tls, () => udp, unix];

/** The adapters these settings turn on. */
export function createAdapters(settings: AdapterSettings): AnyProtocolAdapter[] {
  return BUILTIN.map((create) => create(settings)).filter((adapter) => adapter !== undefined);
}

/** The adapters of a server with default settings (unix off). */
export const builtinAdapters: readonly AnyProtocolAdapter[] =
  createAdapters(DEFAULT_ADAPTER_SETTINGS);

/** Every protocol name this build knows, unix included (a server offers it with --allow-unix). */
export function adapterNames(): string[] {
  return createAdapters({ ...DEFAULT_ADAPTER_SETTINGS, allowUnix: ["/"] }).map(
    (adapter) => adapter.name,
  );
}

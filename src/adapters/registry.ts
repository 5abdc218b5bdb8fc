import {
  GREETING_KEY,
  type Greeting,
  type HandshakeFieldDescriptions,
} from "../protocol/constants.ts";
import { describeFields } from "./fields.ts";
import type { AnyProtocolAdapter, ProtocolAdapter } from "./types.ts";

export interface AdapterRegistry {
  get(name: string): ProtocolAdapter | undefined;
  names(): string[];
  /** The greeting frame's text, generated from the registered adapters. */
  readonly greeting: string;
}

export function createRegistry(
  adapters: readonly AnyProtocolAdapter[],
  server?: string,
): AdapterRegistry {
  const byName = new Map<string, ProtocolAdapter>();
  for (const adapter of adapters) {
    if (byName.has(adapter.name))
      throw new Error(`protocol adapter "${adapter.name}" is registered twice`);
    byName.set(adapter.name, adapter);
  }
  const protocols: Record<string, HandshakeFieldDescriptions> = {};
  for (const [name, adapter] of byName) protocols[name] = describeFields(adapter.fields);
  const greeting: Greeting = { [GREETING_KEY]: protocols, ...(server ? { server } : {}) };
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()],
    greeting: JSON.stringify(greeting),
  };
}

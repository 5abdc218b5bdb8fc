import { type ConnectionCounter, createConnectionCounter, ipKey } from "../limits/per-ip.ts";
import { CloseReason } from "../protocol/constants.ts";
import { Refusal } from "./refusal.ts";

/** A connection's place under --max-connections and --max-connections-per-ip; releasing twice does nothing. */
export interface Slot {
  release(): void;
}

export interface Slots {
  /** Slots held now: connections admitted whose targets are not all closed yet. */
  readonly held: number;
  /** A slot for a connection from this address, or why there is none. */
  take(clientAddress: string): Slot | Refusal;
}

export interface SlotLimits {
  readonly maxConnections: number;
  /** 0: no per-address limit. */
  readonly maxConnectionsPerIp: number;
}

/**
 * Capacity and per-address counts, taken before anything is opened for a connection and given
 * back only when nothing of it is held any more (its sessions' targets flushed and closed), so a
 * client cannot escape the limits by closing while its bytes drain.
 */
export function createSlots(limits: SlotLimits): Slots {
  const perIp: ConnectionCounter | undefined =
    limits.maxConnectionsPerIp > 0
      ? createConnectionCounter(limits.maxConnectionsPerIp)
      : undefined;
  let held = 0;
  return {
    get held() {
      return held;
    },
    take(clientAddress) {
      if (held >= limits.maxConnections) {
        return new Refusal("capacity", CloseReason.atCapacity);
      }
      const releaseIp = perIp?.tryAcquire(ipKey(clientAddress));
      if (releaseIp === null) return new Refusal("per_ip", CloseReason.perIpLimit);
      held++;
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          held--;
          releaseIp?.();
        },
      };
    },
  };
}

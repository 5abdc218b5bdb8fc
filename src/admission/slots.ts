import { ipKey } from "../limits/per-ip.ts";
import { CloseReason } from "../protocol/constants.ts";
import type { AddressLimits, AddressVerdict } from "../state/address-limits.ts";
import { Refusal } from "./refusal.ts";

/** A connection's place under the limits; releasing twice does nothing. */
export interface Slot {
  release(): void;
}

export interface Slots {
  /** Slots held now in this process: connections admitted whose targets are not all closed yet. */
  readonly held: number;
  /**
   * A slot for a connection from this address, or why there is none: `--rate-limit`, then
   * `--max-connections` and `--max-connections-per-ip`. Synchronous unless the address limits
   * live in a shared store.
   */
  take(clientAddress: string): Slot | Refusal | Promise<Slot | Refusal>;
  /** One more Wisp stream on an admitted connection takes a rate token, decided in process. */
  stream(clientAddress: string): Refusal | undefined;
}

export interface SlotLimits {
  readonly maxConnections: number;
  /** Rate and per-address counts: in process, or shared by the fleet (`--state`). */
  readonly addresses: AddressLimits;
}

const REFUSED: Record<Exclude<AddressVerdict, "ok">, () => Refusal> = {
  rate_limit: () => new Refusal("rate_limit", CloseReason.rateLimited),
  per_ip: () => new Refusal("per_ip", CloseReason.perIpLimit),
  unavailable: () => new Refusal("state_unavailable", CloseReason.stateUnavailable),
};

/**
 * Capacity and per-address counts, taken before anything is opened for a connection and given
 * back only when nothing of it is held any more (its sessions' targets flushed and closed), so a
 * client cannot escape the limits by closing while its bytes drain.
 */
export function createSlots(limits: SlotLimits): Slots {
  const { addresses } = limits;
  let held = 0;
  const grant = (key: string, verdict: AddressVerdict): Slot | Refusal => {
    if (verdict !== "ok") return REFUSED[verdict]();
    if (held >= limits.maxConnections) {
      addresses.release(key);
      return new Refusal("capacity", CloseReason.atCapacity);
    }
    held++;
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        held--;
        addresses.release(key);
      },
    };
  };
  return {
    get held() {
      return held;
    },
    take(clientAddress) {
      const key = ipKey(clientAddress);
      // Full already: no need to ask the address limits (or the fleet) anything.
      if (held >= limits.maxConnections) return new Refusal("capacity", CloseReason.atCapacity);
      const verdict = addresses.admit(key, true);
      return verdict instanceof Promise
        ? verdict.then((answer) => grant(key, answer))
        : grant(key, verdict);
    },
    stream(clientAddress) {
      const verdict = addresses.admitHere(ipKey(clientAddress));
      return verdict === "ok" ? undefined : REFUSED[verdict]();
    },
  };
}

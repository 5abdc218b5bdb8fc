import type { Decision } from "./decision.ts";

/** Literal targets remembered per policy; past this many the memo starts afresh. */
export const MEMO_LIMIT = 1024;

/**
 * Decisions a policy has made on IP literals, by protocol, address text and port. A policy never
 * changes once built (a reload builds another), and a proxy's clients mostly reach a few targets:
 * so each is decided once, not once per session. Bounded whatever clients send: forgotten whole
 * when full.
 */
export class DecisionMemo {
  private readonly byProtocol = new Map<string | undefined, Map<string, Map<number, Decision>>>();
  private size = 0;

  get(protocol: string | undefined, address: string, port: number): Decision | undefined {
    return this.byProtocol.get(protocol)?.get(address)?.get(port);
  }

  set(protocol: string | undefined, address: string, port: number, decision: Decision): void {
    if (this.size >= MEMO_LIMIT) {
      this.byProtocol.clear();
      this.size = 0;
    }
    let byAddress = this.byProtocol.get(protocol);
    if (!byAddress) {
      byAddress = new Map();
      this.byProtocol.set(protocol, byAddress);
    }
    let byPort = byAddress.get(address);
    if (!byPort) {
      byPort = new Map();
      byAddress.set(address, byPort);
    }
    byPort.set(port, decision);
    this.size++;
  }
}

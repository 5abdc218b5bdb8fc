import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { eventually } from "./streams.ts";

/** TCP states as /proc/net/tcp writes them (include/net/tcp_states.h). */
export const TcpState = { established: 0x01, synSent: 0x02, listen: 0x0a } as const;

export interface TcpEntry {
  readonly localPort: number;
  readonly remotePort: number;
  readonly state: number;
  /** For a listener: connections waiting in its accept queue. */
  readonly rxQueue: number;
  /** For a listener: the accept queue's length limit (its backlog). */
  readonly txQueue: number;
  readonly inode: number;
}

/** The kernel's TCP sockets (IPv4 and IPv6) in the network namespace of `pid` (default: this one). */
export function tcpTable(pid: number | "self" = "self"): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const file of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [, local, remote, state, queues, , , , , inode] = fields as string[];
      const [tx, rx] = (queues as string).split(":");
      entries.push({
        localPort: Number.parseInt((local as string).split(":")[1] as string, 16),
        remotePort: Number.parseInt((remote as string).split(":")[1] as string, 16),
        state: Number.parseInt(state as string, 16),
        txQueue: Number.parseInt(tx as string, 16),
        rxQueue: Number.parseInt(rx as string, 16),
        inode: Number(inode),
      });
    }
  }
  return entries;
}

/** Inodes of the sockets that process `pid` holds open. */
function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(Number(match[1]));
    } catch {
      // The descriptor closed while we listed them.
    }
  }
  return inodes;
}

/**
 * Waits until process `pid` has a connection attempt to loopback port `port` in flight (state
 * SYN_SENT): the event that says a proxy session has reached "connecting" its target.
 */
export async function waitForConnectAttempt(pid: number, port: number, timeoutMs = 5000) {
  await eventually(
    () => {
      const mine = socketInodes(pid);
      return tcpTable(pid).some(
        (entry) =>
          entry.remotePort === port && entry.state === TcpState.synSent && mine.has(entry.inode),
      );
    },
    timeoutMs,
    `process ${pid} to start connecting to port ${port}`,
  );
}

/** Waits until the listener on `port` has a full accept queue: a further SYN gets no answer. */
export async function waitForFullAcceptQueue(port: number, timeoutMs = 5000) {
  await eventually(
    () =>
      tcpTable().some(
        (entry) =>
          entry.localPort === port &&
          entry.state === TcpState.listen &&
          entry.rxQueue > entry.txQueue,
      ),
    timeoutMs,
    `the accept queue of port ${port} to fill`,
  );
}

/**
 * Waits until the peer of the loopback connection `localPort` → `remotePort` has read every byte
 * sent on it: nothing waits in our send queue or in its receive queue. Only then may a test
 * reset the connection and still expect the peer to have those bytes.
 */
export async function waitUntilPeerHasRead(
  localPort: number,
  remotePort: number,
  timeoutMs = 5000,
) {
  await eventually(
    () => {
      const table = tcpTable();
      const ours = table.find((e) => e.localPort === localPort && e.remotePort === remotePort);
      const theirs = table.find((e) => e.localPort === remotePort && e.remotePort === localPort);
      return ours?.txQueue === 0 && theirs?.rxQueue === 0;
    },
    timeoutMs,
    `the peer on port ${remotePort} to read what port ${localPort} sent`,
  );
}

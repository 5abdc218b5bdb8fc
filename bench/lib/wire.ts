// What went over the proxy's sockets, from `strace -f` of it: for each WebSocket upgrade, the
// Redis commands it wrote and the reads from Redis between reading the client's request and
// writing `101 Switching Protocols`. The round trips on an admission's path, seen on the wire.

export interface WireCount {
  /** Upgrades seen whole (request read, 101 written). */
  upgrades: number;
  /** How many upgrades had N commands of each kind written to Redis meanwhile: kind → N → upgrades. */
  commands: Record<string, Record<string, number>>;
  /** How many upgrades had N reads from Redis meanwhile: N → upgrades. */
  redisReads: Record<string, number>;
  /** The socket the proxy wrote its Redis commands on. */
  redisFd: number | null;
}

const WRITE =
  /^(?:\d+\s+)?(?:[\d:.]+\s+)?(?:sendto|sendmsg|write|writev)\((\d+), \[?\{?(?:iov_base=)?"(.*)/;
const READ =
  /^(?:\d+\s+)?(?:[\d:.]+\s+)?(?:recvfrom|recvmsg|read)\((\d+), \[?\{?(?:iov_base=)?"(.*)/;
/** A RESP command as strace prints it: `*13\r\n$4\r\nEVAL\r\n…`, the name taken with its length. */
const RESP = /^\*(\d+)\\r\\n\$\d+\\r\\n([A-Za-z]+)/;

/** Counts, per upgrade, what the proxy asked of Redis before answering it (see WireCount). */
export function countWire(trace: string): WireCount {
  const lines = trace.split("\n");
  let redisFd: number | null = null;
  for (const line of lines) {
    const write = WRITE.exec(line);
    if (write && RESP.test(write[2] as string)) {
      redisFd = Number(write[1]);
      break;
    }
  }
  type Seen = { commands: Map<string, number>; reads: number };
  const open = new Map<number, Seen>();
  const done: Seen[] = [];
  for (const line of lines) {
    const read = READ.exec(line);
    if (read) {
      const fd = Number(read[1]);
      if (fd === redisFd) for (const pending of open.values()) pending.reads++;
      else if ((read[2] as string).startsWith("GET "))
        open.set(fd, { commands: new Map(), reads: 0 });
      continue;
    }
    const write = WRITE.exec(line);
    if (!write) continue;
    const fd = Number(write[1]);
    const data = write[2] as string;
    if (fd === redisFd) {
      const resp = RESP.exec(data);
      // The admission script has 13 parts, the release script 5: told apart by their length.
      const kind = resp ? `${(resp[2] as string).toUpperCase()}/${resp[1]}` : "other";
      for (const pending of open.values()) {
        pending.commands.set(kind, (pending.commands.get(kind) ?? 0) + 1);
      }
    } else if (data.startsWith("HTTP/1.1 101") && open.has(fd)) {
      done.push(open.get(fd) as Seen);
      open.delete(fd);
    }
  }
  const tally = (values: number[]): Record<string, number> => {
    const byCount: Record<string, number> = {};
    for (const n of values) byCount[n] = (byCount[n] ?? 0) + 1;
    return byCount;
  };
  const kinds = new Set(done.flatMap((seen) => [...seen.commands.keys()]));
  const commands = Object.fromEntries(
    [...kinds].map((kind) => [kind, tally(done.map((seen) => seen.commands.get(kind) ?? 0))]),
  );
  return { upgrades: done.length, commands, redisReads: tally(done.map((s) => s.reads)), redisFd };
}

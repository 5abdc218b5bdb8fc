/** Reads capture files with Debian's tshark, the reader our captures must satisfy. */
import { processResult } from "./process-result.ts";

export const TSHARK = "tshark";

export function tsharkMissing(): boolean {
  return Bun.which(TSHARK) === null;
}

/** Runs tshark on a file with these arguments; throws with its stderr when it fails. */
export async function tshark(file: string, args: string[]): Promise<string> {
  const proc = Bun.spawn([TSHARK, "-r", file, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // tshark writes a profile under HOME; keep it away from the user's.
    env: { ...process.env, HOME: process.env.TMPDIR ?? "/tmp" },
  });
  const { stdout, stderr, code } = await processResult(proc);
  if (code !== 0) throw new Error(`tshark ${args.join(" ")} failed (${code}): ${stderr}`);
  return stdout;
}

export interface FollowedStream {
  /** Bytes from the side that opened the connection (node 0). */
  readonly client: Uint8Array;
  readonly server: Uint8Array;
}

/**
 * `tshark -q -z follow,tcp,raw,N`: the stream's bytes, one hex line per segment; lines of the
 * second node start with a tab.
 */
export async function followTcp(file: string, stream = 0): Promise<FollowedStream> {
  const text = await tshark(file, ["-q", "-z", `follow,tcp,raw,${stream}`]);
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith("Node 1:"));
  if (start === -1) throw new Error(`no follow output:\n${text}`);
  const client: string[] = [];
  const server: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("====")) break;
    if (line.trim() === "") continue;
    (line.startsWith("\t") ? server : client).push(line.trim());
  }
  return {
    client: Buffer.from(client.join(""), "hex"),
    server: Buffer.from(server.join(""), "hex"),
  };
}

/** Every frame's fields, one array per frame (`-T fields -e …`, tab-separated). */
export async function frameFields(
  file: string,
  fields: string[],
  extra: string[] = [],
): Promise<string[][]> {
  const args = [...extra, "-T", "fields", ...fields.flatMap((field) => ["-e", field])];
  const text = await tshark(file, args);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\t"));
}

/** What Wireshark's RESP dissector read on `port`: bulk strings (hex, decoded here) and simple ones. */
export async function redisValues(
  file: string,
  port: number,
): Promise<{ bulk: string[]; simple: string[] }> {
  const decoded = await frameFields(
    file,
    ["resp.bulk_string.value", "resp.string"],
    ["-d", `tcp.port==${port},resp`, "-Y", "resp"],
  );
  const bulk = decoded.flatMap(([values = ""]) =>
    values
      .split(",")
      .filter(Boolean)
      .map((hex) => Buffer.from(hex, "hex").toString()),
  );
  return { bulk, simple: decoded.map(([, simple = ""]) => simple) };
}

/** The expert info summary (`-z expert`), where malformed packets and bad checksums show up. */
export function expertInfo(file: string): Promise<string> {
  return tshark(file, [
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-q",
    "-z",
    "expert",
  ]);
}

/**
 * What the expert info holds against the capture itself: errors of the frame, IP,
 * TCP or UDP layers. Warnings (a reset), chats and notes are normal TCP life, and random payload may look malformed to
 * an application dissector that guesses by port or by content, which is not the capture's doing.
 */
export async function captureProblems(file: string): Promise<string> {
  const text = await expertInfo(file);
  const sections = text.split(/\n(?=\w[^\n]* \(\d+\)\n)/);
  return sections
    .filter((section) => /^Errors \(/.test(section))
    .flatMap((section) => section.split("\n"))
    .filter((line) => /\s(IPv4|IPv6|TCP|UDP|Frame|Raw)\s/.test(line))
    .join("\n");
}

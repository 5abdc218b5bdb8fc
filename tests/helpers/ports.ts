/** A loopback TCP port that was free a moment ago (callers retry if another process takes it). */
export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

// A TCP socket bound to a loopback port that never listens: connecting to it is refused, and no
// other socket can bind or be given that port while it is held. Bun cannot bind without
// listening, so a small Python process holds it until this test process ends (its stdin closes).
const HOLD_BOUND_PORT = `
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

let held: Promise<number> | undefined;
/** Kept referenced for the whole run: the holder lives exactly as long as its stdin is open. */
let holder: Bun.Subprocess<"pipe", "pipe", "inherit"> | undefined;

async function holdBoundPort(): Promise<number> {
  const proc = Bun.spawn(["python3", "-c", HOLD_BOUND_PORT], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  holder = proc;
  proc.unref();
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the bound-port holder ended without printing its port");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const port = Number(text.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`bad port from holder: ${text}`);
  return port;
}

/**
 * A loopback port with nothing listening: connecting to it is refused. Unlike a port that was
 * free a moment ago, it stays bound (never listening) for the whole test run, so no one reuses it.
 */
export async function closedPort(): Promise<number> {
  // A holder that died (a loaded machine, a stray kill) must not fail every later test: start another.
  if (held === undefined || holder?.exitCode !== null) held = holdBoundPort();
  try {
    return await held;
  } catch (error) {
    held = undefined;
    throw error;
  }
}

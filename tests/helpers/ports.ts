/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** A loopback port with nothing listening: connecting to it is refused. */
export const closedPort = freePort;

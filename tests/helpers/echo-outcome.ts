import { expect } from "bun:test";
import { connectThrough } from "./ws-client.ts";

/**
 * A Socket2Web session to an echo target on loopback with `credential` as the handshake's token:
 * "connected" once a message came back, or the refusal's reason and close code (`reason code`).
 * A refusal is checked to be what protocol.md says: an error status, then a close whose reason is
 * exactly its `error`.
 */
export async function echoOutcome(
  proxyUrl: string,
  targetPort: number,
  credential: string,
): Promise<string> {
  const { client, status } = await connectThrough(proxyUrl, {
    protocol: "tcp",
    target_ip: "127.0.0.1",
    target_port: targetPort,
    token: credential,
  });
  if (status.status === "connected") {
    client.send("ping");
    const echoed = new TextDecoder().decode(await client.readBytes(4));
    client.close(1000);
    await client.closed;
    return echoed === "ping" ? "connected" : `echoed ${echoed}`;
  }
  const { code, reason } = await client.closed;
  expect(status.status).toBe("error");
  expect(reason).toBe(String(status.error));
  return `${String(status.reason)} ${code}`;
}

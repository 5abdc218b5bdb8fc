import type { RunningProxy } from "./proxy.ts";
import type { TcpTarget } from "./targets.ts";
import { connectThrough } from "./ws-client.ts";

export interface Outcome {
  readonly status: string;
  readonly error?: string;
  readonly code?: number;
  /** For an error: whether the close reason repeated the error code, as the protocol requires. */
  readonly reasonMatches?: boolean;
}

/** Sessions the proxy has logged as finished so far. */
export const finishedSessions = (output: string) =>
  output.match(/session \d+ .* close \d+/g)?.length ?? 0;

/** One handshake through the proxy; the session is closed afterwards either way. */
export async function attempt(
  proxy: RunningProxy,
  target_ip: string,
  target_port: number,
): Promise<Outcome> {
  const { client, status } = await connectThrough(proxy.url, {
    protocol: "tcp",
    target_ip,
    target_port,
  });
  if (status.status === "connected") {
    client.close(1000);
    const { code } = await client.closed;
    return { status: "connected", code };
  }
  const { code, reason } = await client.closed;
  return {
    status: "error",
    error: status.error as string,
    code,
    reasonMatches: reason === status.error,
  };
}

/**
 * One handshake, then how many connections `target` got from it. Counted only once the proxy has
 * logged the session as finished (a connect it made would have started before that) and the
 * target has accepted everything that arrived until then.
 */
export async function attemptAndCount(
  proxy: RunningProxy,
  target_ip: string,
  target: TcpTarget,
): Promise<{ outcome: Outcome; connections: number }> {
  const before = await target.connectionsSoFar();
  const finished = finishedSessions(proxy.output());
  const outcome = await attempt(proxy, target_ip, target.port);
  await proxy.waitForOutput((text) => finishedSessions(text) > finished);
  return { outcome, connections: (await target.connectionsSoFar()) - before };
}

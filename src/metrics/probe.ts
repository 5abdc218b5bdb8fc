/** How long `socket2web probe` waits for an answer: below Docker's default health-check timeout. */
export const PROBE_TIMEOUT_MS = 2500;

export interface ProbeResult {
  readonly healthy: boolean;
  /** One line for the health-check log: the status, or why there was none. */
  readonly message: string;
}

/**
 * `socket2web probe URL`: a health check for images without curl (the distroless one). Healthy
 * on HTTP 200 only; a redirect is not followed, since a probe should name the endpoint itself.
 */
export async function probe(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { healthy: false, message: `not a URL: ${JSON.stringify(url)}` };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return {
      healthy: false,
      message: `expects an http:// or https:// URL, got ${parsed.protocol}`,
    };
  }
  try {
    const response = await fetch(parsed, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return {
      healthy: response.status === 200,
      message: `${parsed.href}: HTTP ${response.status}`,
    };
  } catch (error) {
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : (error as Error).message;
    return { healthy: false, message: `${parsed.href}: ${reason}` };
  }
}

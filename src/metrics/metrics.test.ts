import { describe, expect, test } from "bun:test";
import { samples } from "../../tests/helpers/prometheus.ts";
import { createMetrics, type FinishedSession, type SessionFigures } from "./metrics.ts";

const finished = (fields: Partial<FinishedSession>): FinishedSession => ({
  frontEnd: "socket2web",
  bytesFromClient: 0,
  bytesFromTarget: 0,
  closeCode: 1000,
  closedBy: "server",
  error: undefined,
  protocol: "tcp",
  ...fields,
});

describe("labels come from closed sets", () => {
  test("200 distinct client close codes add one series, `other`, not 200", async () => {
    const metrics = createMetrics(() => []);
    metrics.sessionFinished(finished({ closeCode: 1000 }));
    const before = [...samples(await metrics.render()).keys()];
    for (let code = 3000; code < 3200; code++)
      metrics.sessionFinished(finished({ closeCode: code, closedBy: "client" }));
    const after = samples(await metrics.render());
    const added = [...after.keys()].filter((key) => !before.includes(key));
    expect(added).toEqual([
      'socket2web_sessions_total{frontend="socket2web",close_code="other",closed_by="client"}',
    ]);
    expect(
      after.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="other",closed_by="client"}',
      ),
    ).toBe(200);
    expect(
      after.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="server"}',
      ),
    ).toBe(1);
  });

  test("the protocol's own codes and RFC 6455's keep their series; no code is `none`", async () => {
    const metrics = createMetrics(() => []);
    for (const code of [1001, 1006, 1013, 4403, 4502, undefined]) {
      metrics.sessionFinished(finished({ closeCode: code }));
    }
    const series = samples(await metrics.render());
    for (const code of ["1001", "1006", "1013", "4403", "4502", "none"]) {
      expect(
        series.get(
          `socket2web_sessions_total{frontend="socket2web",close_code="${code}",closed_by="server"}`,
        ),
      ).toBe(1);
    }
  });

  test("a client's close code is counted apart from the server's: 4403 by the client is not a refusal", async () => {
    const metrics = createMetrics(() => []);
    metrics.sessionFinished(finished({ closeCode: 4403, closedBy: "client" }));
    metrics.sessionFinished(finished({ closeCode: 4403, closedBy: "server" }));
    metrics.sessionFinished(finished({ closeCode: 1000, closedBy: "target" }));
    metrics.sessionFinished(finished({ closeCode: 1000, closedBy: "made-up" as never }));
    const series = samples(await metrics.render());
    expect(
      series.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="4403",closed_by="client"}',
      ),
    ).toBe(1);
    expect(
      series.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="4403",closed_by="server"}',
      ),
    ).toBe(1);
    expect(
      series.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="target"}',
      ),
    ).toBe(1);
    expect(
      series.get(
        'socket2web_sessions_total{frontend="socket2web",close_code="1000",closed_by="other"}',
      ),
    ).toBe(1);
  });

  test("unknown protocols, error codes and refusal reasons become `other`", async () => {
    const metrics = createMetrics(() => [], { protocols: ["tcp"] });
    metrics.sessionFinished(
      finished({ protocol: "made-up", error: "made_up", bytesFromClient: 3, durationSeconds: 1 }),
    );
    metrics.targetConnect("made-up", 0.1, "connected");
    metrics.refused("made_up" as never);
    const series = samples(await metrics.render());
    expect(series.get('socket2web_session_errors_total{error="other"}')).toBe(1);
    expect(
      series.get('socket2web_bytes_total{direction="client_to_target",protocol="other"}'),
    ).toBe(3);
    expect(series.get('socket2web_session_duration_seconds_count{protocol="other"}')).toBe(1);
    expect(
      series.get(
        'socket2web_target_connect_duration_seconds_count{protocol="other",outcome="connected"}',
      ),
    ).toBe(1);
    expect(series.get('socket2web_refused_total{frontend="none",reason="other"}')).toBe(1);
  });
});

test("every refusal reason has a series from the start, so rate() works from the first scrape", async () => {
  const series = samples(await createMetrics(() => []).render());
  for (const reason of ["origin", "credential", "capacity", "per_ip", "rate_limit", "shutdown"]) {
    expect(series.get(`socket2web_refused_total{frontend="none",reason="${reason}"}`)).toBe(0);
  }
});

test("bytes: live sessions count, and moving from live to finished keeps the counter steady", async () => {
  const live = new Set<SessionFigures>([
    { bytesFromClient: 10, bytesFromTarget: 20, protocol: "tcp" },
  ]);
  const metrics = createMetrics(() => live);
  const up = 'socket2web_bytes_total{direction="client_to_target",protocol="tcp"}';
  const down = 'socket2web_bytes_total{direction="target_to_client",protocol="tcp"}';
  let series = samples(await metrics.render());
  expect([series.get(up), series.get(down)]).toEqual([10, 20]);
  expect(series.get("socket2web_sessions_active")).toBe(1);
  live.clear();
  metrics.sessionFinished(finished({ bytesFromClient: 10, bytesFromTarget: 20 }));
  series = samples(await metrics.render());
  expect([series.get(up), series.get(down)]).toEqual([10, 20]);
  expect(series.get("socket2web_sessions_active")).toBe(0);
});

test("duration histograms count each observation into its buckets", async () => {
  const metrics = createMetrics(() => []);
  metrics.handshakeReceived(0.003);
  metrics.handshakeReceived(2);
  metrics.targetConnect("tcp", 0.0004, "connected");
  metrics.targetConnect("tcp", 10, "timeout");
  metrics.sessionFinished(finished({ durationSeconds: 90 }));
  const series = samples(await metrics.render());
  expect(series.get('socket2web_handshake_duration_seconds_bucket{le="0.005"}')).toBe(1);
  expect(series.get('socket2web_handshake_duration_seconds_bucket{le="+Inf"}')).toBe(2);
  expect(series.get("socket2web_handshake_duration_seconds_sum")).toBe(2.003);
  expect(
    series.get(
      'socket2web_target_connect_duration_seconds_bucket{le="0.0005",protocol="tcp",outcome="connected"}',
    ),
  ).toBe(1);
  expect(
    series.get(
      'socket2web_target_connect_duration_seconds_count{protocol="tcp",outcome="timeout"}',
    ),
  ).toBe(1);
  expect(series.get('socket2web_session_duration_seconds_bucket{le="60",protocol="tcp"}')).toBe(0);
  expect(series.get('socket2web_session_duration_seconds_bucket{le="300",protocol="tcp"}')).toBe(1);
});

test("process collectors use the conventional unprefixed names, and nothing is NaN", async () => {
  const text = await createMetrics(() => []).render();
  const series = samples(text);
  expect(series.get("process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
  expect(series.get("process_cpu_seconds_total")).toBeGreaterThan(0);
  expect(series.get("process_open_fds")).toBeGreaterThan(0);
  expect(series.get("process_max_fds")).toBeGreaterThan(0);
  expect(series.get("process_start_time_seconds")).toBeGreaterThan(Date.now() / 1000 - 3600);
  // prom-client's Node defaults print impossible figures on Bun; none of them is registered.
  expect(text).not.toContain("nodejs_");
  expect(text).not.toMatch(/\bnan\b/i);
  for (const value of series.values()) expect(Number.isFinite(value)).toBe(true);
});

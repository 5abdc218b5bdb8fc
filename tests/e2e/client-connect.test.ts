import { describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { randomBytes, sha256 } from "../helpers/bytes.ts";
import { clientCommand, connectArgs, runWithInput } from "../helpers/client-cli.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { closedPort } from "../helpers/ports.ts";
import { startTcpTarget } from "../helpers/targets.ts";
import { waitUntilPeerHasRead } from "../helpers/tcp-table.ts";

const fixture = useProxyAndEcho();

const connectTo = (target: string, ...extra: string[]) =>
  connectArgs(fixture.proxy.url, target, ...extra);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("socket2web connect", () => {
  test("pipes 32 MiB through an echo target intact and exits 0", async () => {
    const data = randomBytes(32 * 1024 * 1024);
    const result = await runWithInput(
      connectTo(`127.0.0.1:${fixture.echo.port}`, "--linger", "0.5"),
      data,
      30_000,
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.byteLength).toBe(data.byteLength);
    expect(sha256(result.stdout)).toBe(sha256(data));
  }, 30_000);

  test("prints what the target sends before it closes, and exits 0", async () => {
    const target = startTcpTarget((socket) => {
      socket.write("hello from the target\n");
      socket.end();
    });
    try {
      const result = await runWithInput(connectTo(`127.0.0.1:${target.port}`), null);
      expect(result.exitCode).toBe(0);
      expect(text(result.stdout)).toBe("hello from the target\n");
    } finally {
      target.stop();
    }
  });

  test("exits 1 with one line when the target is refused", async () => {
    const result = await runWithInput(connectTo(`127.0.0.1:${await closedPort()}`), null);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^connect: connect_failed: .+\n$/);
    expect(result.stdout.byteLength).toBe(0);
  });

  test("exits 1 when the target fails after connecting", async () => {
    const target = startTcpTarget((socket) => {
      socket.write("partial");
      // RST instead of FIN, once the proxy has read the bytes (a reset can discard unread ones):
      // the proxy closes with 1011 after delivering what it read.
      void waitUntilPeerHasRead(socket.localPort, socket.remotePort).then(() => socket.terminate());
    });
    try {
      const result = await runWithInput(
        connectTo(`127.0.0.1:${target.port}`, "--linger", "5"),
        null,
      );
      expect(result.exitCode).toBe(1);
      expect(text(result.stdout)).toBe("partial");
      expect(result.stderr).toMatch(/^connect: closed: connection closed with 1011.*\n$/);
    } finally {
      target.stop();
    }
  });

  test("--linger N closes N seconds after the target's last byte, not a whole window later", async () => {
    const lingerMs = 1500;
    let sentAt = 0;
    const closedAt = Promise.withResolvers<number>();
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          // Early in the first quiet window: timing windows back to back would close only at
          // the end of the second one, nearly 2N after this byte.
          setTimeout(() => {
            socket.write("late\n");
            sentAt = performance.now();
          }, 100);
        },
        data() {},
        close: () => closedAt.resolve(performance.now()),
      },
    });
    try {
      const result = await runWithInput(
        connectTo(`127.0.0.1:${listener.port}`, "--linger", String(lingerMs / 1000)),
        new TextEncoder().encode("x"),
      );
      expect(result.exitCode).toBe(0);
      expect(text(result.stdout)).toBe("late\n");
      const quiet = (await closedAt.promise) - sentAt;
      expect(quiet).toBeGreaterThanOrEqual(lingerMs - 50);
      expect(quiet).toBeLessThan(lingerMs * 1.5);
    } finally {
      listener.stop(true);
    }
  });

  // 0.0.0.0 (unspecified) is denied by the built-in policy, with no rules configured.
  test("exits 1 with connect: forbidden for a built-in denied target", async () => {
    const result = await runWithInput(connectTo("0.0.0.0:80"), null);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^connect: forbidden: .+\n$/);
  });

  test("reaches an IPv6 target written as [::1]:port", async () => {
    let listener: TCPSocketListener | undefined;
    try {
      listener = Bun.listen({
        hostname: "::1",
        port: 0,
        socket: {
          open(socket) {
            socket.write("six\n");
            socket.end();
          },
          data() {},
        },
      });
    } catch (error) {
      console.warn(`skipping the IPv6 case: cannot listen on ::1 (${(error as Error).message})`);
      return;
    }
    const port = listener.port;
    try {
      const result = await runWithInput(connectTo(`[::1]:${port}`), null);
      expect(result.exitCode).toBe(0);
      expect(text(result.stdout)).toBe("six\n");
    } finally {
      listener.stop(true);
    }
  });

  test.each([
    [["--target", "::1:80"], "--target"],
    [["--target", "127.0.0.1:70000"], "--target"],
    [["--server", "http://127.0.0.1:1"], "--server"],
    [["--linger", "soon"], "--linger"],
    [["--bogus"], "--bogus"],
  ])("a bad flag value %j exits 2 with one line naming %s", async (args, flag) => {
    const base = ["--server", fixture.proxy.url, "--target", `127.0.0.1:${fixture.echo.port}`];
    const result = await runWithInput([...clientCommand(), "connect", ...base, ...args], null);
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(flag);
  });
});

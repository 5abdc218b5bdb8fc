import { afterAll, describe, expect, test } from "bun:test";
import { connectArgs, runWithInput } from "../helpers/client-cli.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";

const fixture = useProxyAndEcho();
const BANNER = "SSH-2.0-Socket2WebTest_1.0\r\n";

/** A loopback stand-in for sshd: sends its banner, records the client's, then closes. */
function startBannerTarget() {
  const received: string[] = [];
  const listener = Bun.listen<{ index: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { index: received.push("") - 1 };
        socket.write(BANNER);
      },
      data(socket, chunk) {
        const text = received[socket.data.index] + new TextDecoder().decode(chunk);
        received[socket.data.index] = text;
        if (text.includes("\n")) socket.end();
      },
      error() {},
    },
  });
  return {
    port: listener.port,
    /** What the latest connection received. */
    received: () => received.at(-1),
    stop: () => listener.stop(true),
  };
}

const target = startBannerTarget();
afterAll(() => target.stop());

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

describe("connect as an SSH ProxyCommand", () => {
  test("relays an SSH server's banner to stdout and the client's banner to the server", async () => {
    const result = await runWithInput(
      connectArgs(fixture.proxy.url, `127.0.0.1:${target.port}`, "--linger", "0"),
      new TextEncoder().encode("SSH-2.0-TestClient\r\n"),
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(new TextDecoder().decode(result.stdout)).toBe(BANNER);
    expect(target.received()).toBe("SSH-2.0-TestClient\r\n");
  });

  const ssh = Bun.which("ssh");
  test.skipIf(ssh === null)(
    "the real ssh client, with the README's ProxyCommand, exchanges banners through the proxy",
    async () => {
      const proxyCommand = connectArgs(fixture.proxy.url, "%h:%p", "--linger", "0")
        .map(quote)
        .join(" ");
      const result = await runWithInput(
        [
          ssh as string,
          "-v",
          "-F",
          "/dev/null",
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          `ProxyCommand=${proxyCommand}`,
          "-p",
          String(target.port),
          "tester@127.0.0.1",
          "true",
        ],
        null,
        20_000,
      );
      // The stand-in speaks no further than the banner, so ssh fails after it: what matters
      // is that each side saw the other's banner through connect and the proxy.
      expect(result.stderr).toContain("remote software version Socket2WebTest_1.0");
      expect(target.received()).toMatch(/^SSH-2\.0-OpenSSH/);
    },
    25_000,
  );
});

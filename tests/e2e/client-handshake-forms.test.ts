import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, Socket2WebError } from "../../src/client/index.ts";
import { clientCommand, connectArgs, runWithInput } from "../helpers/client-cli.ts";
import { useProxyAndEcho } from "../helpers/fixtures.ts";
import { startGreetingServer } from "../helpers/greeting-server.ts";
import { readExactly } from "../helpers/streams.ts";
import { startUrlFormServer, type UrlFormServer } from "../helpers/url-form-server.ts";

const fixture = useProxyAndEcho();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function echoesThrough(connection: Awaited<ReturnType<typeof connect>>) {
  const reader = connection.readable.getReader();
  const writer = connection.writable.getWriter();
  await writer.write(new TextEncoder().encode("round trip"));
  expect(text(await readExactly(reader, 10))).toBe("round trip");
  connection.close();
  await connection.closed;
}

describe("handshake forms against socket2web", () => {
  test("the library's default URL form: no greeting, the status comes first", async () => {
    const connection = await connect(fixture.proxy.url, {
      protocol: "tcp",
      fields: { target_ip: "127.0.0.1", target_port: fixture.echo.port },
    });
    expect(connection.handshake).toBe("url");
    expect(connection.status).toMatchObject({
      status: "connected",
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: fixture.echo.port,
    });
    await echoesThrough(connection);
  });

  test("against a server that greets, the URL form falls back to the greeting and works", async () => {
    const older = startGreetingServer();
    try {
      const connection = await connect(older.url, {
        protocol: "tcp",
        fields: { target_ip: "127.0.0.1", target_port: 7 },
      });
      expect(connection.handshake).toBe("message");
      expect(Object.keys(connection.supportedProtocols())).toContain("tcp");
      expect(older.queries[0]).toMatchObject({ protocol: "tcp", target_port: "7" });
      await echoesThrough(connection);
    } finally {
      older.stop();
    }
  });

  test("handshake: 'message' waits for the greeting", async () => {
    const connection = await connect(fixture.proxy.url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: fixture.echo.port,
      handshake: "message",
    });
    expect(connection.handshake).toBe("message");
    await echoesThrough(connection);
  });

  test("connect --target unix:/path sends protocol unix with target_path (this server offers no unix)", async () => {
    const result = await runWithInput(connectArgs(fixture.proxy.url, "unix:/run/app.sock"), null);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("connect: unsupported_protocol");
    expect(result.stderr).toContain("unix");
  });
});

describe("handshake forms against a server that takes the URL form", () => {
  let server: UrlFormServer;
  beforeAll(() => {
    server = startUrlFormServer();
  });
  afterAll(() => server.stop());

  test("the library puts the handshake in the URL and needs no greeting", async () => {
    const connection = await connect(server.url, {
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: 6379,
      token: "t0ken",
    });
    expect(connection.handshake).toBe("url");
    expect(connection.status).toMatchObject({ status: "connected", target_port: 6379 });
    expect(server.queries.at(-1)).toEqual({
      protocol: "tcp",
      target_ip: "127.0.0.1",
      target_port: "6379",
      token: "t0ken",
    });
    await echoesThrough(connection);
    expect(server.textMessages).toEqual([]);
  });

  test("an error status in the URL form is the server's error code and close code", async () => {
    const refusing = startUrlFormServer({ error: "forbidden", reason: "not allowed", code: 4403 });
    try {
      const error = await connect(refusing.url, {
        protocol: "tcp",
        target_ip: "127.0.0.1",
        target_port: 1,
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Socket2WebError);
      expect(error).toMatchObject({ code: "forbidden", closeCode: 4403, reason: "not allowed" });
    } finally {
      refusing.stop();
    }
  });

  test.each([
    [["--target", "unix:/run/app.sock"], { protocol: "unix", target_path: "/run/app.sock" }],
    [
      ["--protocol", "unix", "--target", "/run/app.sock"],
      { protocol: "unix", target_path: "/run/app.sock" },
    ],
    [["--target", "[::1]:5432"], { protocol: "tcp", target_ip: "::1", target_port: "5432" }],
    [
      ["--protocol", "tls", "--target", "db.internal:443", "--field", "server_name=db.example"],
      { protocol: "tls", target_ip: "db.internal", target_port: "443", server_name: "db.example" },
    ],
  ])("connect %j sends the fields %j", async (args, query) => {
    const result = await runWithInput(
      [...clientCommand(), "connect", "--server", server.url, ...args, "--linger", "0.2"],
      new TextEncoder().encode("x"),
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout)).toBe("x");
    expect(server.queries.at(-1)).toEqual(query);
  });

  test("--greeting-handshake keeps the URL free of the handshake", async () => {
    const greeting = startUrlFormServer();
    try {
      // This stand-in never greets, so the attempt must time out: proof nothing went in the URL.
      const result = await runWithInput(
        connectArgs(greeting.url, "127.0.0.1:1", "--greeting-handshake", "--timeout", "0.5"),
        null,
      );
      expect(result.exitCode).toBe(1);
      expect(greeting.queries).toEqual([{}]);
    } finally {
      greeting.stop();
    }
  });
});

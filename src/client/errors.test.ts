import { describe, expect, test } from "bun:test";
import { abortError, closeError, Socket2WebError } from "./errors.ts";

describe("closeError", () => {
  test.each([
    [4403, "forbidden", "forbidden", true],
    [4502, "connect_failed", "connect_failed", true],
    [1013, "server at capacity, try again later", "closed", false],
    [1011, "target failed", "closed", false],
    [1006, "", "network_error", false],
  ])("%d %j → %s", (code, reason, expected, fromServer) => {
    const error = closeError(code, reason);
    expect(error).toBeInstanceOf(Socket2WebError);
    expect(error.code).toBe(expected as Socket2WebError["code"]);
    expect(error.closeCode).toBe(code);
    expect(error.isServerError).toBe(fromServer);
  });
});

test("abortError keeps the signal's reason", () => {
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  const error = abortError(controller.signal);
  expect(error.code).toBe("aborted");
  expect(error.reason).toBe("stop");
  expect(error.cause).toBe(controller.signal.reason);
  expect(error.message).toBe("aborted: stop");
});

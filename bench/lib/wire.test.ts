import { expect, test } from "bun:test";
import { countWire } from "./wire.ts";

// Lines as `strace -f -s 48` prints them (one upgrade's request, the Redis commands, its 101).
const trace = String.raw`
24940 recvfrom(9, "GET / HTTP/1.1\r\nHost: 127.0.0.1:44697\r\nConnectio"..., 524288, MSG_DONTWAIT, NULL, NULL) = 224
24940 sendto(7, "*13\r\n$4\r\nEVAL\r\n$1168\r\n\nlocal time = redis.call('"..., 1364, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 1364
24940 recvfrom(10, "GET / HTTP/1.1\r\nHost: 127.0.0.1:44697\r\nConnectio"..., 524288, MSG_DONTWAIT, NULL, NULL) = 224
24940 sendto(7, "*5\r\n$4\r\nEVAL\r\n$129\r\n\nlocal left = redis.call('HIN"..., 204, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 204
24940 recvfrom(7, ":0\r\n:1\r\n", 524288, MSG_DONTWAIT, NULL, NULL) = 8
24940 sendto(9, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: webso"..., 563, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 563
24940 sendto(7, "*13\r\n$4\r\nEVAL\r\n$1168\r\n\nlocal time = redis.call('"..., 1364, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 1364
24940 recvfrom(7, ":0\r\n", 524288, MSG_DONTWAIT, NULL, NULL) = 4
24940 sendto(10, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: webso"..., 563, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 563
`;

test("counts, per upgrade, the Redis commands written and the reads between its request and its 101", () => {
  const wire = countWire(trace);
  expect(wire.redisFd).toBe(7);
  expect(wire.upgrades).toBe(2);
  // The first upgrade: its admission, and another close's release pipelined behind it. The
  // second (its request read once the first admission was written): that release, its own
  // admission, and two reads from Redis.
  expect(wire.commands).toEqual({ "EVAL/13": { "1": 2 }, "EVAL/5": { "1": 2 } });
  expect(wire.redisReads).toEqual({ "1": 1, "2": 1 });
});

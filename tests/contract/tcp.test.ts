import { startBlackhole } from "../helpers/blackhole.ts";
import { freePort } from "../helpers/ports.ts";
import { testAdapter } from "./adapter.ts";
import { startStreamTarget } from "./targets.ts";

testAdapter({
  protocol: "tcp",
  transport: "stream",
  fields: [{ name: "target_ip" }, { name: "target_port" }],
  async startTarget(mode) {
    const target = startStreamTarget({ port: 0 }, mode);
    return { ...target, fields: { target_ip: "127.0.0.1", target_port: target.port } };
  },
  refusedFields: async () => ({ target_ip: "127.0.0.1", target_port: await freePort() }),
  refusal: { kind: "status", reason: /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/ },
  async startPendingTarget() {
    const blackhole = await startBlackhole();
    return {
      fields: { target_ip: "127.0.0.1", target_port: blackhole.port },
      release: () => blackhole.acceptAll(),
      async delivered(timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        while (blackhole.finished().length === 0) {
          if (Date.now() > deadline) throw new Error("nothing reached the target");
          await Bun.sleep(10);
        }
        return blackhole.finished()[0] as string;
      },
      stop: () => blackhole.stop(),
    };
  },
  invalid: [
    ["target_ip", "999.1.1.1", "not a valid IPv4 address"],
    ["target_ip", "0x7f.0.0.1", "non-standard form"],
    ["target_port", 0, "target_port must be an integer from 1 to 65535"],
    ["target_port", 65536, "target_port must be an integer from 1 to 65535"],
    ["target_port", "80", "target_port must be an integer from 1 to 65535"],
    ["target_port", 80.5, "target_port must be an integer from 1 to 65535"],
  ],
});

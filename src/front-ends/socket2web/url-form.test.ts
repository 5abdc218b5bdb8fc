import { describe, expect, it } from "bun:test";
import { builtinAdapters } from "../../adapters/index.ts";
import { createRegistry } from "../../adapters/registry.ts";
import { urlFormChooser } from "./url-form.ts";

const registry = createRegistry(builtinAdapters);
const choose = (query: string) => urlFormChooser(new URLSearchParams(query), registry);

describe("urlFormChooser", () => {
  it("turns the query into the handshake, target_port as a number", () => {
    const chooser = choose("protocol=tcp&target_ip=10.0.0.5&target_port=502&token=t");
    expect(chooser.kind).toBe("fixed");
    if (chooser.kind !== "fixed") return;
    expect(chooser.selection.echo).toEqual({
      protocol: "tcp",
      target_ip: "10.0.0.5",
      target_port: 502,
    });
    expect(chooser.selection.token).toBe("t");
  });

  it.each([
    ["protocol=tcp&target_ip=10.0.0.5&target_port=5e2", "invalid_handshake"],
    ["protocol=tcp&target_ip=10.0.0.5&target_port=0x1f", "invalid_handshake"],
    ["protocol=tcp&target_ip=10.0.0.5&target_port=99999999999999999999", "invalid_handshake"],
    ["protocol=tcp&target_ip=10.0.0.5", "invalid_handshake"],
    ["protocol=tcp&protocol=tcp&target_ip=10.0.0.5&target_port=1", "invalid_handshake"],
    ["protocol=&target_ip=10.0.0.5&target_port=1", "unsupported_protocol"],
    ["protocol=Tcp&target_ip=10.0.0.5&target_port=1", "unsupported_protocol"],
  ])("%p is refused with %p", (query, code) => {
    const chooser = choose(query);
    expect(chooser.kind).toBe("refused");
    if (chooser.kind === "refused") expect(chooser.error.code as string).toBe(code);
  });
});

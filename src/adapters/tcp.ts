import { formatHostPort } from "../net/host-port.ts";
import { openCancellableTcp } from "./cancellable-connect.ts";
import { hostField, parseFields, portField } from "./fields.ts";
import { defineProtocol } from "./types.ts";

const fields = {
  target_ip: hostField("IP Address"),
  target_port: portField("Port for IP Address"),
};

export const tcp = defineProtocol({
  name: "tcp",
  fields,
  endpoint: "network",
  transport: "stream",
  parse: (handshake) => parseFields(fields, handshake),
  locate: (target) => ({ host: target.target_ip, port: target.target_port }),
  // Through node:net so that an abandoned connect releases its descriptor at once.
  open: ({ location: { address, port }, signal, preamble }, events) =>
    openCancellableTcp({
      address,
      port,
      where: formatHostPort(address, port),
      signal,
      events,
      preamble,
    }),
});

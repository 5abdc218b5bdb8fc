import { formatHostPort } from "../net/host-port.ts";
import { hostField, parseFields, portField } from "./fields.ts";
import { openTcp } from "./tcp-connect.ts";
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
  open: ({ location: { address, port }, signal, preamble }, events) =>
    openTcp({
      address,
      port,
      where: formatHostPort(address, port),
      signal,
      events,
      preamble,
    }),
});

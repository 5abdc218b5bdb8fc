import { parseFields, pathField } from "./fields.ts";
import { createPathAllowList } from "./local-path.ts";
import type { AdapterSettings } from "./settings.ts";
import { openUnixSocket } from "./stream-socket.ts";
import { defineProtocol, type PathAdapter } from "./types.ts";

const fields = {
  target_path: pathField("Path of a Unix domain stream socket on the server"),
};

/** Off unless `--allow-unix` names at least one prefix: then it is neither greeted nor accepted. */
export function unix(settings: AdapterSettings): PathAdapter<{ target_path: string }> | undefined {
  if (settings.allowUnix.length === 0) return undefined;
  return defineProtocol({
    name: "unix",
    fields,
    endpoint: "path",
    transport: "stream",
    allowed: createPathAllowList(settings.allowUnix),
    parse: (handshake) => parseFields(fields, handshake),
    locate: (target) => target.target_path,
    open: ({ location: { path }, signal, preamble }, events) =>
      openUnixSocket({ path, signal, events, preamble }),
  });
}

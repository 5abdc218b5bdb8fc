// direct: the client speaks TCP to the target itself. The ceiling for every row.
import type { Row } from "./row.ts";

export const direct: Row = {
  id: "direct",
  label: "direct TCP",
  unavailable: () => null,
  async start(ctx) {
    return {
      endpoint: { dialect: "tcp", host: ctx.targetHost, port: ctx.targetPort },
      pid: null,
      async stop() {},
    };
  },
};

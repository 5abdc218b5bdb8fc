import { defineCommand } from "citty";
import { createLogger } from "../../log/logger.ts";
import { formatHostPort } from "../../net/host-port.ts";
import { fatal } from "../../process/exit.ts";
import { onShutdownSignal } from "../../process/signals.ts";
import {
  type ForwardOptions,
  logLevelFlag,
  proxyEndpointFlags,
  toForwardOptions,
} from "./client-options.ts";
import { webSocketFactory } from "./client-socket.ts";
import { assertKnownFlags } from "./known-flags.ts";
import { explainListenError } from "./listen-error.ts";
import { checkServer } from "./server-check.ts";
import { type BridgeContext, TcpBridge } from "./tcp-bridge.ts";

export const forwardArgs = {
  listen: {
    type: "string",
    description: "Local address to accept TCP connections on; port 0 picks a free one",
    valueHint: "host:port",
  },
  ...proxyEndpointFlags,
  ...logLevelFlag,
} as const;

/** What `--help` adds to the flags: the ones `forward` cannot run without, and examples. */
export const FORWARD_REQUIRED = ["listen", "server", "target"] as const;
export const FORWARD_EXAMPLES = [
  "socket2web forward --listen 127.0.0.1:15432 --server ws://proxy:8080 --target db.internal:5432",
  "socket2web forward --listen 127.0.0.1:6380 --server wss://proxy:8443 --ca ca.pem --origin https://app.example.com --target 10.0.0.5:6379",
];

/** Sessions get this long to close cleanly on SIGINT/SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 2000;

/** Starts the local listener; each accepted connection becomes its own WebSocket session. */
export function startForwarding(options: ForwardOptions, context: BridgeContext) {
  const bridges = new Set<TcpBridge>();
  const listener = Bun.listen<TcpBridge>({
    hostname: options.listen.host,
    port: options.listen.port,
    // The local peer may half-close and still expect replies.
    allowHalfOpen: true,
    socket: {
      open(socket) {
        const bridge = new TcpBridge(socket, context);
        socket.data = bridge;
        bridges.add(bridge);
        bridge.start();
      },
      data: (socket, chunk) => socket.data.onData(chunk),
      drain: (socket) => socket.data.onDrain(),
      end: (socket) => socket.data.onEnd(),
      close(socket) {
        bridges.delete(socket.data);
        socket.data.onClose();
      },
      error() {
        // `close` follows and ends the session.
      },
    },
  });
  return { listener, bridges };
}

export const forwardCommand = defineCommand({
  meta: {
    name: "forward",
    description: "Accept local TCP connections and carry each through the proxy to the target",
  },
  args: forwardArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, forwardArgs);
    const options = toForwardOptions(args, process.env, rawArgs);
    const logger = createLogger(options.logLevel).withTag("forward");
    const webSocket = webSocketFactory(options);
    const check = await checkServer(options);
    if (!check.ok) fatal(`forward: ${check.problem}`);
    const context: BridgeContext = {
      options,
      webSocket,
      report: (level, line) => logger[level](line),
    };
    let running: ReturnType<typeof startForwarding>;
    try {
      running = startForwarding(options, context);
    } catch (error) {
      fatal(`forward: ${explainListenError(error, options.listen)}`);
    }
    logger.info(
      `listening on ${formatHostPort(options.listen.host, running.listener.port)}, ` +
        `forwarding to ${options.protocol} ${options.targetLabel} through ${options.server.origin}`,
    );
    onShutdownSignal(async () => {
      // Stop accepting, then close each session's WebSocket (1001); a session is gone once
      // its local socket has received what was in flight and closed.
      running.listener.stop(false);
      for (const bridge of running.bridges) bridge.stop();
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (running.bridges.size > 0 && Date.now() < deadline) await Bun.sleep(20);
      process.exit(0);
    });
  },
});

import type { ProtocolAdapter } from "../adapters/types.ts";
import {
  type CredentialCheck,
  type CredentialFailure,
  credentialFailure,
  type Grant,
} from "../auth/credentials.ts";
import type { Logger } from "../log/logger.ts";
import { ProxyError } from "../protocol/errors.ts";
import type { Selection } from "../session/selection.ts";
import {
  type StreamSessionRequest,
  type WispAccess,
  WispConnection,
  type WispSocket,
} from "./connection.ts";
import type { CreditLimits } from "./credit.ts";
import { matchWispPath, wispSubprotocol } from "./endpoint.ts";
import type { StreamSession, WispStream } from "./stream.ts";

/**
 * Each TCP stream's flow control towards its target. The first packets' size is unknown, so the
 * credit every stream starts with is small (wisp-js's server offers 128, which lets 8 MiB of
 * 64 KiB packets in at once); later grants size the window to about the relay's high-water mark,
 * up to 128 packets for small ones.
 */
export const WISP_CREDIT: CreditLimits = { initial: 32, most: 128, bytes: 1024 * 1024 };

/** What an upgrade under the Wisp prefix becomes, decided before the upgrade. */
export type WispUpgrade =
  | {
      readonly kind: "wisp";
      readonly version: 1 | 2;
      /** Answered in Sec-WebSocket-Protocol (the client's first offer). */
      readonly subprotocol: string | undefined;
      readonly access: WispAccess;
    }
  /** wsproxy: a raw session to a target fixed by the URL. */
  | { readonly kind: "wsproxy"; readonly selection: Selection; readonly grant: Grant | undefined };

export interface WispUpgradeDeps {
  readonly prefix: string;
  readonly credentials: CredentialCheck;
  readonly tcp: ProtocolAdapter;
  readonly logger: Logger;
}

/** An upgrade refused before it happens, as an HTTP status and the text that says why. */
export interface WispRefusal {
  readonly kind: "refused";
  readonly status: 400 | 401;
  readonly message: string;
}

const refused = (status: 400 | 401, message: string): WispRefusal => ({
  kind: "refused",
  status,
  message,
});
/** The client hears the failure's class (none given, expired…), never the credential. */
const UNAUTHORIZED = (failure: CredentialFailure = MISSING) => refused(401, failure.clientReason);
const MISSING = credentialFailure("missing", "no credential");

/**
 * Decides an upgrade whose path is under the Wisp prefix (undefined for any other path), after
 * admission (Origin, rate, an Authorization header): a credential in the path is checked here (401
 * when bad), and a Wisp 1 or wsproxy client that brings none where one is required is refused
 * with 401. A Wisp 2 client may still bring one in its INFO.
 */
export async function planWispUpgrade(
  request: Request,
  pathname: string,
  headerGrant: Grant | undefined,
  deps: WispUpgradeDeps,
): Promise<WispUpgrade | WispRefusal | undefined> {
  const endpoint = matchWispPath(deps.prefix, pathname);
  if (endpoint === undefined) return undefined;
  if (endpoint.kind === "invalid") {
    return refused(400, endpoint.reason);
  }
  let grant = headerGrant;
  if (!grant && endpoint.credential !== undefined) {
    const result = await deps.credentials.check(endpoint.credential);
    if (!result.ok) {
      deps.logger.info(`refused a Wisp upgrade: ${result.reason}`);
      return UNAUTHORIZED(result);
    }
    grant = result;
  }
  if (!grant && !deps.credentials.required) grant = { ok: true, kind: "anonymous" };
  const subprotocol = wispSubprotocol(request.headers.get("sec-websocket-protocol"));
  if (endpoint.kind === "wisp") {
    const version = subprotocol === undefined ? 1 : 2;
    if (grant) return { kind: "wisp", version, subprotocol, access: { kind: "open", grant } };
    if (version === 1) return UNAUTHORIZED();
    const { credentials } = deps;
    return {
      kind: "wisp",
      version,
      subprotocol,
      access: {
        kind: "password",
        async authenticate(password) {
          const result = await credentials.check(password);
          if (result.ok) return result;
          deps.logger.info(`refused a Wisp password: ${result.reason}`);
          return undefined;
        },
      },
    };
  }
  if (!grant) return UNAUTHORIZED();
  if (subprotocol !== undefined) {
    return refused(400, "a wsproxy URL takes no WebSocket subprotocol");
  }
  const { host, port } = endpoint.target;
  try {
    const target = deps.tcp.parse({ target_ip: host, target_port: port });
    return {
      kind: "wsproxy",
      selection: { adapter: deps.tcp, target, echo: {}, token: undefined },
      grant,
    };
  } catch (error) {
    if (error instanceof ProxyError) return refused(400, error.message);
    throw error;
  }
}

export interface WispConnectionDeps {
  readonly adapters: { readonly tcp: ProtocolAdapter; readonly udp?: ProtocolAdapter };
  readonly maxStreams: number;
  readonly logger: Logger;
  /** Makes (does not start) a session for a stream; the server counts it like any session. */
  readonly session: (request: StreamSessionRequest) => StreamSession;
  readonly admitStream?: () => string | undefined;
  readonly streamFinished?: (stream: WispStream) => void;
  readonly maxLifetime: number;
  readonly idleTimeout: number;
}

/** Starts the Wisp side of an upgraded connection. */
export function startWispConnection(
  socket: WispSocket,
  upgrade: Extract<WispUpgrade, { kind: "wisp" }>,
  label: string,
  deps: WispConnectionDeps,
): WispConnection {
  const connection = new WispConnection(socket, {
    version: upgrade.version,
    credit: WISP_CREDIT,
    maxStreams: deps.maxStreams,
    adapters: deps.adapters,
    access: upgrade.access,
    session: deps.session,
    ...(deps.admitStream ? { admitStream: deps.admitStream } : {}),
    logger: deps.logger,
    label,
    maxLifetime: deps.maxLifetime,
    idleTimeout: deps.idleTimeout,
    ...(deps.streamFinished ? { streamFinished: deps.streamFinished } : {}),
  });
  connection.start();
  return connection;
}

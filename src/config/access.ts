import { AccessFileError } from "../auth/access-file.ts";
import { type AccessSource, loadAccessSource } from "../auth/access-source.ts";
import type { IdentityHeader } from "../auth/identity-header.ts";
import { FRONT_ENDS } from "../metrics/labels.ts";
import { createPeerTrust } from "../net/client-address.ts";
import type { Origins } from "./load.ts";
import type { Settings } from "./settings.ts";
import { UsageError } from "./usage-error.ts";

/** `--access FILE`, read and checked before anything listens: a bad file is a usage error. */
export async function loadAccess(
  settings: Settings,
  origins: Origins,
  protocols: readonly string[],
): Promise<AccessSource | undefined> {
  const path = settings.access;
  if (path === undefined) return undefined;
  try {
    return await loadAccessSource(path, {
      protocols,
      frontEnds: FRONT_ENDS,
      // As for --ticket-single-use: each worker would remember its own tickets, so one could be
      // used once per worker. Checked at every reload too: the key may be added later.
      ...(settings.workers !== 1 && settings.state === undefined && ticketsConfigured(settings)
        ? {
            singleUseRefused:
              "needs --workers 1, or --state: the used tickets are remembered in one process",
          }
        : {}),
    });
  } catch (error) {
    if (error instanceof AccessFileError) {
      throw new UsageError(`${origins.access.label}: ${error.message}`);
    }
    throw error;
  }
}

function ticketsConfigured(settings: Settings): boolean {
  return (
    settings["ticket-secret"] !== undefined ||
    settings["ticket-secret-file"] !== undefined ||
    settings["ticket-public-key"] !== undefined ||
    settings["ticket-jwks"] !== undefined
  );
}

/** `--identity-header NAME`, believed from `--trust-proxy` peers only. */
export function identityHeader(settings: Settings, origins: Origins): IdentityHeader | undefined {
  const header = settings["identity-header"];
  if (header === undefined) return undefined;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new UsageError(`${origins["identity-header"].label}: "${header}" is not a header name`);
  }
  if (settings["trust-proxy"].length === 0) {
    throw new UsageError(
      `${origins["identity-header"].label} needs --trust-proxy: the header is believed only from those peers`,
    );
  }
  return { header: header.toLowerCase(), trusted: createPeerTrust(settings["trust-proxy"]) };
}

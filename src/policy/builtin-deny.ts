import {
  type AddressRange,
  type IpAddress,
  parseAddressRange,
  rangeContains,
} from "../net/address.ts";

export interface DeniedClass {
  /** Used in the forbidden reason: "… is a cloud metadata address". */
  readonly name: string;
  readonly ranges: readonly AddressRange[];
}

function deniedClass(name: string, ranges: readonly string[]): DeniedClass {
  return { name, ranges: ranges.map(parseAddressRange) };
}

/**
 * Denied even with no rules configured. Loopback and private ranges are deliberately absent:
 * a proxy often runs beside the services it exposes (docs/protocol.md section 6).
 */
export const BUILTIN_DENIED: readonly DeniedClass[] = [
  // Instance metadata hands out cloud credentials. 169.254.170.2 and .23 (and fd00:ec2::23)
  // serve container and pod credentials on AWS; 100.100.100.200 is Alibaba Cloud's.
  deniedClass("cloud metadata address", [
    "169.254.169.254",
    "169.254.170.2",
    "169.254.170.23",
    "100.100.100.200",
    "fd00:ec2::254",
    "fd00:ec2::23",
  ]),
  // Connecting to 0.0.0.0 or :: reaches the proxy host itself on Linux; the rest of
  // 0.0.0.0/8 is "this network" and never a real destination.
  deniedClass("unspecified address", ["0.0.0.0/8", "::/128"]),
  deniedClass("multicast address", ["224.0.0.0/4", "ff00::/8"]),
  deniedClass("broadcast address", ["255.255.255.255"]),
];

export function builtinDeniedClass(address: IpAddress): DeniedClass | undefined {
  // Loops, not find/some: this runs for every address checked, and callbacks are made per call.
  for (const denied of BUILTIN_DENIED) {
    for (const range of denied.ranges) if (rangeContains(range, address)) return denied;
  }
  return undefined;
}

/**
 * An allow range re-opens a built-in class only when it lies inside that class: `--allow
 * 169.254.169.254` re-opens metadata, `--allow 0.0.0.0/0` does not, so a broad allow never
 * re-opens metadata by accident.
 */
export function reopensBuiltin(allowed: AddressRange, denied: DeniedClass): boolean {
  return denied.ranges.some(
    (range) => allowed.prefix >= range.prefix && rangeContains(range, allowed.address),
  );
}

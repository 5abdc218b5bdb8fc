import { type AddressRange, AddressRangeError, parseAddressRange } from "../net/address.ts";
import { normaliseHostName } from "../net/host-name.ts";

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

export type RuleTarget =
  | { readonly kind: "address"; readonly range: AddressRange }
  /** Exactly this (normalised) host name. */
  | { readonly kind: "host"; readonly name: string }
  /** `*.suffix`: any name ending in `.suffix`, at any depth, but not `suffix` itself. */
  | { readonly kind: "host-suffix"; readonly suffix: string };

export interface Rule {
  /** The rule as written, for messages. */
  readonly text: string;
  /** `udp:10.0.0.0/8:53`: the rule applies to sessions of this protocol only. Absent: every protocol. */
  readonly protocol?: string;
  readonly target: RuleTarget;
  /** Absent: every port. */
  readonly ports?: PortRange;
}

export class PolicyRuleError extends Error {
  override readonly name = "PolicyRuleError";
  constructor(
    readonly rule: string,
    problem: string,
  ) {
    super(`invalid rule "${rule}": ${problem}`);
  }
}

/** `udp:` before a rule: a protocol (adapter) name, lower case, as the handshake spells it. */
const PROTOCOL_PREFIX = /^([a-z][a-z0-9-]*):(.+)$/;

/**
 * Parses one `--allow`/`--deny` rule: `10.0.0.0/8:22`, `[fd00::/8]:5432`, `db.internal:5432`,
 * `*.plc.local:502-503`, `192.168.1.100`, `[::1]:80`, or a bare IPv6 address or range without
 * a port (`fd00::/8`); any of them may be preceded by a protocol name and a colon
 * (`udp:10.0.0.0/8:53`, `tls:*.corp.example:443`). A text that reads as a rule without a prefix
 * is that rule (`tcp:80` is the host `tcp`, port 80; `fe80::1` an address). Throws
 * PolicyRuleError naming the rule and the problem.
 */
export function parseRule(text: string): Rule {
  const fail = (problem: string): never => {
    throw new PolicyRuleError(text, problem);
  };
  if (text.length === 0) fail("it is empty");
  if (/\s/.test(text)) fail("it contains white space");
  // No rule syntax uses a comma: "a,b" is two rules given as one value.
  if (text.includes(",")) fail("it holds a comma: give one rule per value");
  try {
    return parseUnprefixed(text, text, fail);
  } catch (error) {
    const prefixed = PROTOCOL_PREFIX.exec(text);
    // `localhost:99999`: what follows the colon is a (bad) port, so the plain reading's error stands.
    if (!prefixed || /^[\d-]*$/.test(prefixed[2] as string)) throw error;
    const [, protocol = "", rest = ""] = prefixed;
    try {
      return { ...parseUnprefixed(rest, text, fail), protocol };
    } catch (prefixedError) {
      // `fe80::1%eth0`: a bad IPv6 address is not a protocol `fe80`; say what is wrong with it.
      throw /^[\da-f]{1,4}$/i.test(protocol) && rest.startsWith(":") ? error : prefixedError;
    }
  }
}

function parseUnprefixed(ruleText: string, text: string, fail: Fail): Rule {
  const { targetText, portText } = splitPort(ruleText, fail);
  const ports = portText === undefined ? undefined : parsePorts(portText, fail);
  const target = parseTarget(targetText, fail);
  return ports === undefined ? { text, target } : { text, target, ports };
}

type Fail = (problem: string) => never;

function splitPort(text: string, fail: Fail): { targetText: string; portText?: string } {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) fail('"[" without a matching "]"');
    const targetText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest === "") return { targetText };
    if (!rest.startsWith(":")) fail('expected ":PORT" after "]"');
    if (!targetText.includes(":")) fail("brackets are only for IPv6 addresses");
    return { targetText, portText: rest.slice(1) };
  }
  const colons = text.split(":").length - 1;
  // More than one colon without brackets is an IPv6 address or range, which takes no port.
  if (colons !== 1) return { targetText: text };
  const colon = text.indexOf(":");
  return { targetText: text.slice(0, colon), portText: text.slice(colon + 1) };
}

function parsePorts(text: string, fail: Fail): PortRange {
  const parts = text.split("-");
  if (parts.length > 2) fail(`"${text}" is not a port or a port range LOW-HIGH`);
  const [low, high = low] = parts.map((part) => parsePort(part, fail));
  if (low === undefined || high === undefined) return fail(`"${text}" is not a port`);
  if (low > high) fail(`port range ${text} is reversed (low must not exceed high)`);
  return { low, high };
}

function parsePort(text: string, fail: Fail): number {
  if (!/^[1-9]\d{0,4}$/.test(text) || Number(text) > 65535) {
    fail(`port "${text}" must be a whole number from 1 to 65535`);
  }
  return Number(text);
}

const NUMERIC_LAST_LABEL = /(^|\.)(0x[0-9a-f]*|[0-9]+)\.?$/i;

function parseTarget(text: string, fail: Fail): RuleTarget {
  if (text === "") return fail("no address or host name before the port");
  if (text.includes(":") || text.includes("/") || /^[\d.]+$/.test(text)) {
    try {
      return { kind: "address", range: parseAddressRange(text) };
    } catch (error) {
      if (error instanceof AddressRangeError) return fail(error.message);
      throw error;
    }
  }
  // A handshake never names such a host (src/net/target-host.ts refuses it as an IPv4 address in
  // another notation, like 0x7f.0.0.1), so the rule could never match.
  if (NUMERIC_LAST_LABEL.test(text)) {
    return fail(
      "a host name whose last label is a number never matches: handshakes refuse it as an IPv4 address in a non-standard form; write the address in dotted decimal or a CIDR range",
    );
  }
  if (text.startsWith("*.")) {
    const suffix = normaliseHostName(text.slice(2));
    if (suffix === null || text.endsWith(".")) {
      return fail(`"${text.slice(2)}" after "*." is not a host name`);
    }
    return { kind: "host-suffix", suffix };
  }
  if (text.includes("*")) return fail('a wildcard is only allowed as a leading "*." label');
  const name = normaliseHostName(text);
  if (name === null) return fail(`"${text}" is not an IP address, CIDR range or host name`);
  return { kind: "host", name };
}

import { defineCommand } from "citty";
import { adapterNames } from "../adapters/index.ts";
import { AccessFileError } from "../auth/access-file.ts";
import {
  type AccessRules,
  type AccessSettings,
  choiceLabel,
  chooseRule,
  settingsOf,
} from "../auth/access-rules.ts";
import { readAccessFile } from "../auth/access-source.ts";
import type { Principal } from "../auth/principal.ts";
import { assertKnownFlags } from "../client/modes/known-flags.ts";
import { repeatedFlag } from "../client/modes/repeated-flag.ts";
import { UsageError } from "../config/usage-error.ts";
import { count } from "../log/count.ts";
import { FRONT_ENDS } from "../metrics/labels.ts";
import { parseAddress } from "../net/address.ts";
import { parseTargetText } from "../net/target-text.ts";
import { createPolicy } from "../policy/policy.ts";

export const ACCESS_EXAMPLES = [
  "socket2web access check access.toml --principal alice --target 10.0.0.5:22",
  "socket2web access check access.toml --principal bob --claim groups=ops --protocol udp",
];

export const accessArgs = {
  action: { type: "positional", description: "check", required: false },
  file: { type: "positional", description: "The access file (TOML)", required: false },
  principal: { type: "string", description: "The principal's name", valueHint: "name" },
  target: { type: "string", description: "A target to check, HOST:PORT", valueHint: "host:port" },
  protocol: { type: "string", description: "The adapter (default tcp)", valueHint: "name" },
  "front-end": {
    type: "string",
    description: "The front end (socket2web, raw, wisp; default: any)",
    valueHint: "name",
  },
  claim: {
    type: "string",
    description:
      "A claim the principal carries, NAME=VALUE (repeatable; repeated names make a list)",
    valueHint: "name=value",
  },
} as const;

/** A rule's settings, one `key = value` line each, in the file's own key names. */
export function describeSettings(settings: AccessSettings): string[] {
  const lines: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value !== undefined && !(Array.isArray(value) && value.length === 0))
      lines.push(`  ${key} = ${JSON.stringify(value)}`);
  };
  add(
    "allow",
    settings.targets?.allow.map((rule) => rule.text),
  );
  add(
    "deny",
    settings.targets?.deny.map((rule) => rule.text),
  );
  add("protocols", settings.protocols);
  add("front_ends", settings.frontEnds);
  add("max_sessions", settings.maxSessions);
  add("rate", settings.rate);
  add("max_lifetime", settings.maxLifetime);
  add("idle_timeout", settings.idleTimeout);
  add("bandwidth_up", settings.bandwidthUp);
  add("bandwidth_down", settings.bandwidthDown);
  add("session_bandwidth_up", settings.sessionBandwidthUp);
  add("session_bandwidth_down", settings.sessionBandwidthDown);
  add("single_use_tickets", settings.singleUseTickets);
  return lines;
}

/** The loaded rules for `--print-config`: comments, so the output stays a valid settings file. */
export function formatAccessRules(path: string, rules: AccessRules): string {
  const lines = [`# access rules from ${path} (first match wins):`];
  for (const rule of rules.rules) {
    const matches = [
      rule.principals ? `principals ${JSON.stringify(rule.principals)}` : "",
      ...(rule.claims ?? []).map(
        (test) =>
          `claim ${test.claim} holds ${test.values.map((v) => JSON.stringify(v)).join(" or ")}`,
      ),
    ].filter(Boolean);
    lines.push(`# ${rule.label} (line ${rule.line}): ${matches.join(", ")}`);
    lines.push(...describeSettings(rule).map((line) => `#${line}`));
  }
  if (rules.fallback) {
    lines.push("# [default]: everyone else");
    lines.push(...describeSettings(rules.fallback).map((line) => `#${line}`));
  } else lines.push("# no [default]: everyone else gets the server's policy and limits");
  return `${lines.join("\n")}\n`;
}

function claimsOf(texts: readonly string[]): Record<string, string | string[]> {
  const claims: Record<string, string | string[]> = {};
  for (const text of texts) {
    const equals = text.indexOf("=");
    if (equals <= 0)
      throw new UsageError(`--claim expects NAME=VALUE, got ${JSON.stringify(text)}`);
    const name = text.slice(0, equals);
    const value = text.slice(equals + 1);
    const held = claims[name];
    claims[name] = held === undefined ? value : [...(Array.isArray(held) ? held : [held]), value];
  }
  return claims;
}

/** What `access check` prints, and whether the target (if any) passes the rule. */
export function explain(
  file: string,
  rules: AccessRules,
  principal: Principal,
  options: { target?: string; protocol: string; frontEnd?: string },
): { text: string; allowed: boolean } {
  const lines = [
    `${file}: valid, ${count(rules.rules.length, "rule")}${rules.fallback ? " and a [default]" : ""}`,
  ];
  const claims = principal.claims && Object.keys(principal.claims).length > 0;
  lines.push(
    `principal ${principal.name}${claims ? ` with claims ${JSON.stringify(principal.claims)}` : ""}`,
  );
  const choice = chooseRule(rules, principal);
  const settings = settingsOf(choice);
  lines.push(`applies: ${choice.why}`);
  lines.push(...describeSettings(settings));
  let allowed = true;
  const refuse = (why: string) => {
    allowed = false;
    lines.push(`refused: ${why}`);
  };
  if (options.frontEnd && settings.frontEnds && !settings.frontEnds.includes(options.frontEnd)) {
    refuse(`${choiceLabel(choice)} does not allow front end ${options.frontEnd}`);
  }
  if (settings.protocols && !settings.protocols.includes(options.protocol)) {
    refuse(`${choiceLabel(choice)} does not allow protocol ${options.protocol}`);
  }
  if (options.target !== undefined) {
    const target = parseTargetText(options.target);
    if (typeof target === "string") throw new UsageError(`--target: ${target}`);
    // The rule alone: the server's own --allow/--deny still apply on top (a rule never widens them).
    const open = createPolicy({ allow: [], deny: [] });
    const policy = settings.targets ? open.narrow(settings.targets, choiceLabel(choice)) : open;
    const decision =
      parseAddress(target.host) === null
        ? policy.checkHost(target.host, target.port, options.protocol)
        : policy.check({ address: target.host, port: target.port, protocol: options.protocol });
    if (decision.allowed) {
      lines.push(
        `target ${options.target} (${options.protocol}): allowed by the rule (the server's --allow and --deny still apply)`,
      );
    } else refuse(`target ${options.target} (${options.protocol}): ${decision.reason}`);
  }
  return { text: `${lines.join("\n")}\n`, allowed };
}

/**
 * `socket2web access check FILE --principal NAME [--target HOST:PORT] …`: validates the file and
 * says which rule applies to the principal and why, and whether it lets the target through.
 * Exit 0: allowed; 1: the rule refuses; 2: the file or the arguments are wrong.
 */
export const accessCommand = defineCommand({
  meta: {
    name: "access",
    description: "Check an --access file: which rule applies to a principal, and why",
  },
  args: accessArgs,
  async run({ args, rawArgs }) {
    assertKnownFlags(rawArgs, accessArgs);
    if (args.action !== "check" || args.file === undefined) {
      throw new UsageError(
        "usage: socket2web access check FILE --principal NAME [--target HOST:PORT] [--protocol tcp] [--claim NAME=VALUE]",
      );
    }
    if (args.principal === undefined || args.principal === "") {
      throw new UsageError("access check needs --principal NAME");
    }
    const frontEnd = args["front-end"];
    if (frontEnd !== undefined && !(FRONT_ENDS as readonly string[]).includes(frontEnd)) {
      throw new UsageError(`--front-end: one of ${FRONT_ENDS.join(", ")}`);
    }
    const protocol = args.protocol ?? "tcp";
    const protocols = adapterNames();
    if (!protocols.includes(protocol)) {
      throw new UsageError(`--protocol: one of ${protocols.join(", ")}`);
    }
    let rules: AccessRules;
    try {
      rules = await readAccessFile(args.file, { protocols, frontEnds: FRONT_ENDS });
    } catch (error) {
      if (error instanceof AccessFileError) throw new UsageError(error.message);
      throw error;
    }
    const claims = claimsOf(repeatedFlag(rawArgs, "claim"));
    const result = explain(
      args.file,
      rules,
      { name: args.principal, source: "token", claims },
      {
        protocol,
        ...(args.target !== undefined ? { target: args.target } : {}),
        ...(frontEnd !== undefined ? { frontEnd } : {}),
      },
    );
    process.stdout.write(result.text);
    if (!result.allowed) process.exitCode = 1;
  },
});

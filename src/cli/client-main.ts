#!/usr/bin/env bun
// A stand-alone entry for the client modes, until the main command registers them.
import { defineCommand, runCommand, runMain } from "citty";
import { VERSION } from "../version.ts";
import { connectCommand } from "./connect.ts";
import { exitOnError } from "./exit.ts";
import { forwardCommand } from "./forward.ts";

const command = defineCommand({
  meta: { name: "socket2web", version: VERSION, description: "Socket2Web client modes" },
  subCommands: { forward: forwardCommand, connect: connectCommand },
});

const rawArgs = process.argv.slice(2);
if (
  rawArgs.length === 0 ||
  rawArgs.some((arg) => ["--help", "-h", "--version", "-v"].includes(arg))
) {
  await runMain(command, { rawArgs });
} else {
  await runCommand(command, { rawArgs }).catch(exitOnError);
}

#!/usr/bin/env bun
import { runCommand, runMain } from "citty";
import { mainCommand } from "./cli/command.ts";
import { exitOnError } from "./cli/exit.ts";
import { showUsage } from "./client/modes/usage.ts";

const rawArgs = process.argv.slice(2);
const wantsHelpOrVersion = rawArgs.some((arg) => ["--help", "-h", "--version", "-v"].includes(arg));

// citty's runMain prints usage on errors and exits 1; only --help and --version go through it.
if (wantsHelpOrVersion) await runMain(mainCommand, { rawArgs, showUsage });
else await runCommand(mainCommand, { rawArgs }).catch(exitOnError);

#!/usr/bin/env bun
import { restartWithRuntimeSettings } from "./process/runtime-restart.ts";

// Before the program is loaded, so that a restart costs a runtime start and not the program's.
await restartWithRuntimeSettings();
const { main } = await import("./cli/main.ts");
await main(process.argv.slice(2));

#!/usr/bin/env bun
import { restartWithPurgeDelay } from "./process/allocator-restart.ts";

// Before the program is loaded, so that a restart costs a runtime start and not the program's.
await restartWithPurgeDelay();
const { main } = await import("./cli/main.ts");
await main(process.argv.slice(2));

// Preloaded into a server by `wisp-opens.ts --objects`: on each SIGUSR2, the JavaScript heap's
// cells by type go to $HEAP_COUNTS_FILE.N (N = 0, 1, …). With the collector off
// (BUN_JSC_useGC=0) nothing is freed, so two snapshots differ by every cell made between them.
import { heapStats } from "bun:jsc";

const file = process.env.HEAP_COUNTS_FILE;
let taken = 0;
if (file) {
  process.on("SIGUSR2", () => {
    const { heapSize, objectTypeCounts } = heapStats();
    void Bun.write(`${file}.${taken++}`, JSON.stringify({ heapSize, objectTypeCounts }));
  });
}

import { readdirSync, readFileSync } from "node:fs";
import { Counter, Gauge, type Registry } from "prom-client";
import { VERSION } from "../version.ts";

/**
 * The process collectors under the names every dashboard expects (unprefixed, as the Prometheus
 * client libraries write them). prom-client's own defaults are not used: on Bun several of them
 * read V8 internals that Bun does not have, and printed zeros, impossible figures and `Nan`.
 * A figure this platform cannot give is left out, never written as NaN.
 */
export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const cpu = () => process.cpuUsage();
  new Counter({
    name: "process_cpu_user_seconds_total",
    help: "Total user CPU time spent in seconds.",
    registers,
    collect() {
      setCounter(this, cpu().user / 1e6);
    },
  });
  new Counter({
    name: "process_cpu_system_seconds_total",
    help: "Total system CPU time spent in seconds.",
    registers,
    collect() {
      setCounter(this, cpu().system / 1e6);
    },
  });
  new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers,
    collect() {
      const usage = cpu();
      setCounter(this, (usage.user + usage.system) / 1e6);
    },
  });
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
    aggregator: "min",
    collect() {
      this.set(startTime);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  optionalGauge(registry, "process_virtual_memory_bytes", "Virtual memory size in bytes.", () => {
    // /proc/self/stat field 23 is vsize in bytes; the name in field 2 may hold spaces.
    const stat = readFileSync("/proc/self/stat", "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[20]);
  });
  optionalGauge(registry, "process_open_fds", "Number of open file descriptors.", () => {
    // The directory listing itself holds one descriptor while it is read.
    return readdirSync("/proc/self/fd").length - 1;
  });
  optionalGauge(
    registry,
    "process_max_fds",
    "Maximum number of open file descriptors.",
    () => {
      const limits = readFileSync("/proc/self/limits", "utf8");
      const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
      return soft === undefined ? Number.NaN : Number(soft);
    },
    "max",
  );
  new Gauge({
    name: "socket2web_js_heap_bytes",
    help: "JavaScript heap in use, in bytes.",
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: "socket2web_build_info",
    help: "Always 1; the labels say which build is running.",
    labelNames: ["version", "bun_version"],
    registers,
    aggregator: "max",
  }).set({ version: VERSION, bun_version: process.versions.bun ?? "unknown" }, 1);
}

function setCounter(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}

/**
 * A gauge read from a source this platform may not have (Linux /proc): registered only when a
 * first read gives a finite number, so that other platforms show no sample instead of NaN.
 */
function optionalGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
  aggregator: "sum" | "max" = "sum",
): void {
  const attempt = (): number | undefined => {
    try {
      const value = read();
      return Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  };
  if (attempt() === undefined) return;
  new Gauge({
    name,
    help,
    registers: [registry],
    aggregator,
    collect() {
      const value = attempt();
      if (value === undefined) this.reset();
      else this.set(value);
    },
  });
}

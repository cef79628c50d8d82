// Preloaded (`--require`) into a deployed function by bench/cold_ab.ts: from exec to the end of
// the process's first HTTP answer, every GC pause (perf_hooks' "gc" entries: kind, ms) and the
// process's CPU time, and the code cache line start.cjs prints under VD_CODE_CACHE_DEBUG.
// Written once, as JSON, to GC_PROBE_DIR/<pid>.json. Reads nothing of the function's own.
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { PerformanceObserver } = require("node:perf_hooks");

const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ kind: e.detail?.kind ?? 0, ms: e.duration });
}).observe({ entryTypes: ["gc"] });

let cache = null;
const consoleError = console.error;
console.error = (...args) => {
  const m = typeof args[0] === "string" && args[0].match(/^code cache (\w+)$/);
  if (m) cache = m[1];
  return consoleError.apply(console, args);
};

const end = http.ServerResponse.prototype.end;
let written = false;
http.ServerResponse.prototype.end = function endAndRecord(...args) {
  const out = end.apply(this, args);
  if (!written) {
    written = true;
    const cpu = process.cpuUsage();
    const record = { gcs, cpuMs: (cpu.user + cpu.system) / 1000, cache };
    // After the answer's own callbacks; the observer's last entries arrive in this turn.
    // Written under another name, then renamed: the bench reads a record the moment its
    // name appears, so it must never see one half written.
    setImmediate(() => {
      const file = path.join(process.env.GC_PROBE_DIR ?? ".", `${process.pid}.json`);
      fs.writeFileSync(`${file}.partial`, JSON.stringify(record));
      fs.renameSync(`${file}.partial`, file);
    });
  }
  return out;
};

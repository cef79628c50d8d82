// bench/report.ts: the confined cold start and burst beside the headline ones, measured or
// skipped, and the table's line for each; the headline figures stay in SPEC §12's format.
import assert from "node:assert/strict";
import { it } from "node:test";
import { results, table } from "../../bench/report.js";

const cold = { ours: [600, 700, 650], sample: [3000, 3200, 3100] };

it("reports the confined cold start and burst as their own section, like the headline figures", () => {
  const raw = {
    cold,
    confined: {
      memoryMb: 512,
      ours: [640, 610, 700],
      sample: [3300, 3400, 3350],
      burst: { peakMb: 106.34, afterFirstMb: 78.2, ms: 23_800 },
    },
  };
  const out = results(raw, {});
  assert.deepEqual(out.cold_start, { dispatch_ms: 650, google_sample_ms: 3100, ratio: 0.21 });
  assert.deepEqual(out.confined, {
    memory_mb: 512,
    dispatch_ms: 640,
    google_sample_ms: 3350,
    ratio: 0.191,
    peak_rss_mb: 106.3,
  });
  const text = table(out, raw);
  assert.match(
    text,
    /in 512 MB: cold ours n=3 min 610 max 700; sample n=3 min 3300 max 3400; burst 23\.8 s/,
  );
  // Targets are judged on the headline figures only: the confined ones carry no met/MISSED.
  for (const figure of ["ratio", "peak_rss_mb"]) {
    const line = text.split("\n").find((l) => new RegExp(`^confined\\s+${figure}`).test(l));
    assert.ok(line, `${figure} in:\n${text}`);
    assert.doesNotMatch(line, /met|MISSED/);
  }
});

it("says loudly why the confined cold start was skipped", () => {
  const raw = {
    cold,
    confined: { memoryMb: 512, skipped: "could not make a 512 MB memory cgroup at /x (EACCES)" },
  };
  const out = results(raw, {});
  assert.deepEqual(out.confined, {
    memory_mb: 512,
    skipped: "could not make a 512 MB memory cgroup at /x (EACCES)",
  });
  assert.match(
    table(out, raw),
    /in 512 MB: SKIPPED \(could not make .*\); run the bench as root for it/,
  );
});

// The chaos verdict's write rates by kind of object (pure): slot objects apart from launch
// records and markers, so the max_jobs admission's per-object rate is reported on its own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { writesByKind, writesLine } from "../chaos/verify.js";

const rate = (object: string, writes: number, total: number) => ({
  object,
  second: "2026-12-01T00:00:00Z",
  writes,
  total,
});

test("slots, launch records and markers of the state bucket are counted apart", () => {
  const w = writesByKind(
    {
      maxPerObjectPerSecond: 4,
      objects: 6,
      writes: 14,
      busiest: [
        rate("st/launches/q/r1.json", 4, 5),
        rate("st/active/q/r1", 3, 3),
        rate("st/slots/lim/0", 2, 2),
        rate("st/slots/lim/1", 1, 2),
        rate("st/rejected/x.json", 1, 1),
        rate("other/slots/lim/0", 9, 1),
      ],
    },
    "st",
  );
  assert.deepEqual(w.slots, {
    max_per_second: 2,
    objects: 2,
    writes: 4,
    busiest: "st/slots/lim/0",
  });
  assert.deepEqual(w.records, {
    max_per_second: 4,
    objects: 2,
    writes: 6,
    busiest: "st/launches/q/r1.json",
  });
  assert.equal(w.markers.max_per_second, 3);
  assert.equal(w.other.busiest, "other/slots/lim/0", "another bucket's slots/ is not ours");
  assert.match(writesLine(w), /slots max 2\/s \(2 objects, 4 writes\); launch records max 4\/s/);
});

test("nothing written: zeros, no busiest object", () => {
  const w = writesByKind({ maxPerObjectPerSecond: 0, objects: 0, writes: 0, busiest: [] }, "st");
  assert.deepEqual(w.slots, { max_per_second: 0, objects: 0, writes: 0, busiest: null });
});

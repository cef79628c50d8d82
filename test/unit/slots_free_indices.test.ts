// Which free slot indices an acquirer tries, and in what order (pure; the random source passed in).
import assert from "node:assert/strict";
import { test } from "node:test";
import { freeIndices } from "../../shared/slots.js";

const held = (...indices: number[]) =>
  indices.map((index) => ({ index, launchId: `l${index}`, generation: "1" }));
/** A seeded generator (mulberry32), so orders are reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("every free index below max, none held, each once", () => {
  const out = freeIndices(held(0, 2, 5), 6, seeded(1));
  assert.deepEqual([...out].sort(), [1, 3, 4]);
});

test("held indices at or above a lowered max are not offered, and none is invented", () => {
  assert.deepEqual(freeIndices(held(3, 4), 3, seeded(2)).sort(), [0, 1, 2]);
  assert.deepEqual(freeIndices(held(0, 1, 2), 3, seeded(2)), []);
});

test("a burst spreads: different acquirers start at different indices", () => {
  const firsts = new Set(Array.from({ length: 40 }, (_, i) => freeIndices([], 50, seeded(i))[0]));
  assert.ok(firsts.size >= 15, `40 acquirers started at only ${firsts.size} indices`);
});

test("a huge max_jobs offers a small window that still has a free index", () => {
  const taken = held(...Array.from({ length: 100 }, (_, i) => i * 2));
  const out = freeIndices(taken, 1_000_000_000, seeded(3));
  assert.ok(out.length >= 64 && out.length <= 164, `${out.length} candidates`);
  const takenSet = new Set(taken.map((s) => s.index));
  assert.ok(out.every((i) => !takenSet.has(i) && i < 164));
});

// Writes per object per second, as Cloud Storage limits them (about one sustained write per
// second to one object name). Every write that changed an object (a new generation, a
// metadata update, a delete) is counted against its bucket/name and the wall-clock second it
// happened in. Only each object's busiest second is kept, so memory grows with objects, not writes.

export interface ObjectWriteRate {
  /** bucket/name */
  object: string;
  /** The busiest second, as an ISO time truncated to the second. */
  second: string;
  /** Writes in that second. */
  writes: number;
  /** Writes to this object since the last reset. */
  total: number;
}

export interface WriteRateReport {
  /** The most writes any one object took in one second (0 when nothing was written). */
  maxPerObjectPerSecond: number;
  /** Objects written at least once. */
  objects: number;
  /** Writes counted. */
  writes: number;
  /** The busiest objects, busiest first (at most `top`). */
  busiest: ObjectWriteRate[];
}

interface Counter {
  second: number;
  inSecond: number;
  peakSecond: number;
  peak: number;
  total: number;
}

export class WriteRates {
  private counters = new Map<string, Counter>();
  private writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one write that took effect. Invariant: called once per changed generation/metageneration/delete. */
  count(bucket: string, name: string): void {
    const key = `${bucket}/${name}`;
    const second = Math.floor(this.now() / 1000);
    const c = this.counters.get(key) ?? {
      second,
      inSecond: 0,
      peakSecond: second,
      peak: 0,
      total: 0,
    };
    if (c.second !== second) {
      c.second = second;
      c.inSecond = 0;
    }
    c.inSecond++;
    c.total++;
    if (c.inSecond > c.peak) {
      c.peak = c.inSecond;
      c.peakSecond = second;
    }
    this.counters.set(key, c);
    this.writes++;
  }

  report(top = 10): WriteRateReport {
    const all = [...this.counters.entries()].map(([object, c]) => ({
      object,
      second: new Date(c.peakSecond * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      writes: c.peak,
      total: c.total,
    }));
    all.sort(
      (a, b) => b.writes - a.writes || b.total - a.total || a.object.localeCompare(b.object),
    );
    return {
      maxPerObjectPerSecond: all[0]?.writes ?? 0,
      objects: all.length,
      writes: this.writes,
      busiest: all.slice(0, Math.max(0, top)),
    };
  }

  clear(): void {
    this.counters.clear();
    this.writes = 0;
  }
}

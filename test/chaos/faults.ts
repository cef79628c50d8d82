// The faults a chaos run injects, at one rate, into the Vertex and GCS emulators (their
// in-process control handles): every kind the issue names, each hitting a `rate` share of
// the calls it matches, plus slow answers. Returns how to count what fired and to stop them.
import type { GcsEmulator } from "../../local/gcs/index.js";
import type { VertexEmulator } from "../../local/vertex/index.js";

export interface InjectedFaults {
  /** Faults that fired so far, per emulator and kind. */
  fired(): Record<string, number>;
  /** Removes every injected fault (the emulators answer normally again). */
  clear(): void;
}

export function injectFaults(
  vertex: VertexEmulator,
  gcs: GcsEmulator,
  rate: number,
): InjectedFaults {
  const v = vertex.control;
  const vertexRules = [
    v.addFault({ method: "CreateCustomJob", code: "UNAVAILABLE", rate }),
    // The trap of SPEC §6: the job exists, the answer says it may not.
    v.addFault({ method: "CreateCustomJob", code: "DEADLINE_EXCEEDED", when: "after", rate }),
    v.addFault({ method: "CreateCustomJob", code: "RESOURCE_EXHAUSTED", rate: rate / 2 }),
    v.addFault({ method: "ListCustomJobs", code: "UNAVAILABLE", rate }),
    v.addFault({ method: "ListCustomJobs", code: "DEADLINE_EXCEEDED", rate: rate / 2 }),
    v.addFault({ method: "CancelCustomJob", code: "UNAVAILABLE", rate }),
    v.addFault({ method: "*", delayMs: 30 }),
  ];
  const g = gcs.control;
  // Order matters: the GCS emulator applies the first matching fault, so the delay goes last.
  const gcsFaults = [
    g.injectFault({ operation: "objects.insert", status: 503, rate }),
    g.injectFault({ operation: "objects.insert", status: 429, rate }),
    // A lost answer: the write took effect, the client sees a dropped connection or a 503.
    g.injectFault({ operation: "objects.insert", status: 0, when: "after", rate }),
    g.injectFault({ operation: "objects.insert", status: 503, when: "after", rate: rate / 2 }),
    g.injectFault({ operation: "objects.patch", status: 503, rate }),
    g.injectFault({ operation: "objects.get", status: 503, rate }),
    g.injectFault({ operation: "objects.get", status: 429, rate: rate / 2 }),
    g.injectFault({ operation: "objects.list", status: 503, rate }),
    g.injectFault({ operation: "objects.delete", status: 0, when: "after", rate }),
    g.injectFault({ operation: "objects.delete", status: 503, rate }),
    g.injectFault({ operation: "*", delayMs: 150, rate }),
  ];
  const vertexIds = new Set(vertexRules.filter((r) => r.code !== null).map((r) => r.id));
  let spentVertex: Record<string, number> = {};
  let spentGcs: Record<string, number> = {};
  const current = () => {
    const out: Record<string, number> = {};
    for (const rule of v.listFaults()) {
      if (!vertexIds.has(rule.id)) continue;
      const key = `vertex ${rule.method} ${rule.when === "after" ? "after-" : ""}${rule.code}`;
      out[key] = (out[key] ?? 0) + rule.fired;
    }
    const ids = new Set(gcsFaults.map((f) => f.id));
    for (const f of g.faults()) {
      if (!ids.has(f.id)) continue;
      const what =
        f.status === undefined
          ? `slow ${f.delayMs}ms`
          : `${f.when === "after" ? "after-" : ""}${f.status === 0 ? "drop" : f.status}`;
      const key = `gcs ${f.operation} ${what}`;
      out[key] = (out[key] ?? 0) + f.hits;
    }
    return out;
  };
  return {
    fired() {
      const now = current();
      const all = { ...spentVertex, ...spentGcs };
      for (const [k, n] of Object.entries(now)) all[k] = n;
      return all;
    },
    clear() {
      const last = current();
      spentVertex = Object.fromEntries(
        Object.entries(last).filter(([k]) => k.startsWith("vertex")),
      );
      spentGcs = Object.fromEntries(Object.entries(last).filter(([k]) => k.startsWith("gcs")));
      for (const rule of vertexRules) v.removeFault(rule.id);
      for (const f of gcsFaults) g.removeFault(f.id);
    },
  };
}

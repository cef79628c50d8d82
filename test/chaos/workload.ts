// The chaos run's workload, derived from one seed: which launches go to which queue, how
// many times each is published and after what delay, the poison messages, and when the
// functions are killed. Pure: the same seed gives the same plan.

/** mulberry32: a small seeded PRNG, so a run's plan can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const QUEUES = {
  plain: "chaos",
  limited: "chaos-max",
  multiRegion: "chaos-multi",
  missing: "chaos-missing",
} as const;

export interface PlannedLaunch {
  queue: string;
  runId: string;
  /** How many times the same message is published (1 to maxCopies, default 3). */
  copies: number;
  /** Delay of each copy after the launch's turn, in ms. */
  delaysMs: number[];
  body: Record<string, unknown>;
}

export type PoisonKind =
  | "not_json"
  | "wrong_types"
  | "unknown_keys"
  | "missing_queue"
  | "multi_region_staging"
  | "secret_in_env";

export const POISON_KINDS: readonly PoisonKind[] = [
  "not_json",
  "wrong_types",
  "unknown_keys",
  "missing_queue",
  "multi_region_staging",
  "secret_in_env",
];

export interface PlannedPoison {
  kind: PoisonKind;
  /** The run id it names (every poison but not_json names one), to find its record and any job. */
  runId: string;
  data: Buffer;
}

export interface Plan {
  launches: PlannedLaunch[];
  poison: PlannedPoison[];
  /** When each kill comes (the share of launches dispatched by then), and which function. */
  kills: Array<{ atShare: number; fn: "dispatch" | "poll" }>;
}

export interface PlanOptions {
  launches: number;
  seed: number;
  /** Share of launches sent to the max_jobs queue. */
  limitedShare: number;
  /** Each launch is published 1 to this many times (default 3). */
  maxCopies?: number;
  poison: number;
  kills: number;
  /** Over how long publishing is spread, in ms. */
  spreadMs: number;
  canary: string;
}

const IMAGE = "us-central1-docker.pkg.dev/acme-ml/train/resnet:1";

function body(queue: string, runId: string): Record<string, unknown> {
  return {
    queue,
    entity: "acme",
    project: "chaos",
    run_id: runId,
    image_uri: IMAGE,
    run_config: { lr: 0.1 },
  };
}

export function makePlan(o: PlanOptions): Plan {
  const rnd = seeded(o.seed);
  const launches: PlannedLaunch[] = [];
  for (let i = 0; i < o.launches; i++) {
    const queue = rnd() < o.limitedShare ? QUEUES.limited : QUEUES.plain;
    const runId = `c${o.seed.toString(36)}-${i.toString(36)}`;
    const copies = 1 + Math.floor(rnd() * (o.maxCopies ?? 3));
    const delaysMs = Array.from({ length: copies }, () => Math.floor(rnd() * 1500));
    launches.push({ queue, runId, copies, delaysMs, body: body(queue, runId) });
  }
  const poison = Array.from({ length: o.poison }, (_, i) =>
    poisonMessage(POISON_KINDS[i % POISON_KINDS.length] as PoisonKind, `p${o.seed}-${i}`, o.canary),
  );
  const kills = Array.from({ length: o.kills }, (_, i) => ({
    atShare: (i + rnd()) / (o.kills + 1),
    fn: (rnd() < 0.6 ? "dispatch" : "poll") as "dispatch" | "poll",
  }));
  return { launches, poison, kills };
}

function poisonMessage(kind: PoisonKind, runId: string, canary: string): PlannedPoison {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const valid = body(QUEUES.plain, runId);
  switch (kind) {
    case "not_json":
      return { kind, runId, data: Buffer.from(`{"queue": "chaos", "run_id": "${runId}", oops`) };
    case "wrong_types":
      return { kind, runId, data: json({ ...valid, entity: 42, run_config: "lr=0.1" }) };
    case "unknown_keys":
      return { kind, runId, data: json({ ...valid, imageUri: IMAGE, runConfig: {} }) };
    case "missing_queue":
      return { kind, runId, data: json(body(QUEUES.missing, runId)) };
    case "multi_region_staging":
      return { kind, runId, data: json(body(QUEUES.multiRegion, runId)) };
    case "secret_in_env":
      return { kind, runId, data: json({ ...valid, env: { WANDB_API_KEY: canary } }) };
  }
}

// The W&B emulator's memory: entities, run queues, run-queue items and launch agents.
//
// Item lifecycle, as W&B runs it: PENDING (pushed) → LEASED (popped by an agent) →
// CLAIMED (acked with the run's name), or FAILED (failRunQueueItem). A LEASED item that
// is not acked within the lease (60 s by default) goes back to PENDING, so an agent that
// dies between pop and ack loses nothing. Pop order: priority (0 first), then age.

export type ItemState = "PENDING" | "LEASED" | "CLAIMED" | "FAILED";

export interface TemplateVariable {
  schema: { type?: string; minimum?: number; maximum?: number; enum?: unknown[] };
  default?: unknown;
}

export interface Queue {
  id: string;
  entity: string;
  project: string;
  name: string;
  access: string;
  createdBy: string;
  /** The queue's resource (`gcp-vertex` for a Vertex queue); null: the launch's own. */
  resource: string | null;
  /** The queue's resource config (its `spec`/`run`), merged into each pushed runSpec. */
  config: Record<string, unknown>;
  templateVariables: Record<string, TemplateVariable>;
}

export interface Report {
  message: string;
  stage: string;
  filePaths: string[] | null;
}

export interface Item {
  id: string;
  queueId: string;
  state: ItemState;
  runSpec: Record<string, unknown>;
  priority: number;
  createdAt: string;
  /** Epoch ms until which a LEASED item is held for its agent. */
  leasedUntil: number | null;
  leasedBy: string | null;
  /** The run name the ack gave (the run id). */
  runName: string | null;
  error: Report | null;
  warnings: Report[];
  pops: number;
  acks: number;
}

export interface Agent {
  id: string;
  name: string;
  entity: string;
  project: string;
  queueIds: string[];
  hostname: string;
  version: string | null;
  config: unknown;
  status: string;
  heartbeatAt: string;
  heartbeats: number;
}

/** W&B ids are GraphQL global ids: base64("Type:number"). */
function globalId(type: string, n: number): string {
  return Buffer.from(`${type}:${n}`).toString("base64");
}

export class Store {
  queues = new Map<string, Queue>();
  items = new Map<string, Item>();
  agents = new Map<string, Agent>();
  private counter = 0;

  constructor(
    readonly now: () => number,
    readonly leaseMs: number,
  ) {}

  nextId(type: string): string {
    this.counter += 1;
    return globalId(type, this.counter);
  }

  findQueue(entity: string, project: string, name: string): Queue | undefined {
    for (const q of this.queues.values()) {
      if (q.entity === entity && q.project === project && q.name === name) return q;
    }
    return undefined;
  }

  addQueue(input: Omit<Queue, "id">): Queue {
    const existing = this.findQueue(input.entity, input.project, input.name);
    if (existing) throw new Error(`queue ${input.entity}/${input.project}/${input.name} exists`);
    const queue = { ...input, id: this.nextId("RunQueue") };
    this.queues.set(queue.id, queue);
    return queue;
  }

  addItem(queue: Queue, runSpec: Record<string, unknown>, priority: number): Item {
    const item: Item = {
      id: this.nextId("RunQueueItem"),
      queueId: queue.id,
      state: "PENDING",
      runSpec,
      priority,
      createdAt: new Date(this.now()).toISOString(),
      leasedUntil: null,
      leasedBy: null,
      runName: null,
      error: null,
      warnings: [],
      pops: 0,
      acks: 0,
    };
    this.items.set(item.id, item);
    return item;
  }

  /** Returns lapsed leases to PENDING (called before every read of item state). */
  expireLeases(force = false): void {
    const now = this.now();
    for (const item of this.items.values()) {
      if (item.state === "LEASED" && (force || (item.leasedUntil ?? 0) <= now)) {
        item.state = "PENDING";
        item.leasedUntil = null;
        item.leasedBy = null;
      }
    }
  }

  /** Leases the next PENDING item of a queue to an agent, or null when none waits. */
  pop(queue: Queue, agentId: string | null): Item | null {
    this.expireLeases();
    const pending = [...this.items.values()]
      .filter((i) => i.queueId === queue.id && i.state === "PENDING")
      .sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt));
    const item = pending[0];
    if (!item) return null;
    item.state = "LEASED";
    item.leasedUntil = this.now() + this.leaseMs;
    item.leasedBy = agentId;
    item.pops += 1;
    return item;
  }

  itemsOf(queue: Queue): Item[] {
    this.expireLeases();
    return [...this.items.values()].filter((i) => i.queueId === queue.id);
  }

  reset(): void {
    this.queues.clear();
    this.items.clear();
    this.agents.clear();
  }
}

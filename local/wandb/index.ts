// The W&B API emulator: the GraphQL subset the launch agent and `wandb launch` use, with
// W&B's API-key auth, plus a control API. Shares no code with the product's bridge.
// See docs/wandb-emulator.md.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ControlContext } from "./control.js";
import { Faults } from "./faults.js";
import type { Viewer } from "./resolvers.js";
import { wandbSchema } from "./schema.js";
import { startServer } from "./server.js";
import { Store } from "./store.js";

export { itemJson } from "./control.js";

export const DEFAULT_WANDB_PORT = 9030;
/** The local API key (40 characters, as W&B's are). Local use only: it guards nothing. */
export const LOCAL_WANDB_API_KEY = "local000000000000000000000000000wandbkey";
export const LOCAL_WANDB_ENTITY = "acme";

export interface WandbEmulatorOptions {
  host?: string;
  /** Port (default 9030; 0 = any free port). */
  port?: number;
  /** Accepted API keys (default: LOCAL_WANDB_API_KEY), all belonging to `entity`. */
  apiKeys?: string[];
  /** The user's entity (default "acme"). */
  entity?: string;
  /** How long a popped item stays leased without an ack (default 60 s, as W&B). */
  leaseSeconds?: number;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
  log?: (line: string) => void;
}

export interface WandbEmulator {
  /** "http://127.0.0.1:port": WANDB_BASE_URL. */
  url: string;
  port: number;
  apiKey: string;
  /** The emulator's state, for in-process tests (the control API serves the same). */
  ctx: ControlContext;
  close(): Promise<void>;
}

export async function startWandbEmulator(
  options: WandbEmulatorOptions = {},
): Promise<WandbEmulator> {
  const host = options.host ?? "127.0.0.1";
  const entity = options.entity ?? LOCAL_WANDB_ENTITY;
  const apiKeys = options.apiKeys ?? [LOCAL_WANDB_API_KEY];
  const keys = new Map<string, Viewer>(apiKeys.map((k) => [k, { username: entity, entity }]));
  const ctx: ControlContext = {
    store: new Store(options.now ?? Date.now, (options.leaseSeconds ?? 60) * 1000),
    faults: new Faults(),
    requests: [],
  };
  const log = options.log ?? (() => {});
  const server: Server = await startServer(
    { schema: wandbSchema(), ctx, keys, log },
    host,
    options.port ?? DEFAULT_WANDB_PORT,
  );
  const port = (server.address() as AddressInfo).port;
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  log(`wandb emulator: GraphQL on http://${shown}:${port}/graphql`);
  return {
    url: `http://${shown}:${port}`,
    port,
    apiKey: apiKeys[0] ?? "",
    ctx,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// The emulator's shared state, handed to the service, the control API and the servers.
import type { Facts } from "./facts.js";
import type { Faults } from "./faults.js";
import type { ClockConfig, Lifecycle } from "./lifecycle.js";
import type { Protos } from "./protos.js";
import type { RequestLog } from "./request_log.js";
import type { ProjectNumbers } from "./resources.js";
import type { Outcome, Store } from "./store.js";

export interface EmulatorContext {
  protos: Protos;
  facts: Facts;
  store: Store;
  lifecycle: Lifecycle;
  faults: Faults;
  requests: RequestLog;
  projects: ProjectNumbers;
  /** Accounts the caller may act as; null = any account. */
  actAs: string[] | null;
  /** The outcome given to jobs created from now on. */
  defaultOutcome: Outcome;
  /** GCS JSON API endpoint for the bucket-location check; null = no check. */
  gcsEndpoint: string | null;
  /** What reset() goes back to. */
  initial: { actAs: string[] | null; clock: ClockConfig };
  log: (line: string) => void;
}

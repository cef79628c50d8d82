// For tests that need Google's Pub/Sub emulator: why it cannot run (then the test skips,
// loudly), and one emulator per test file with the production topology.
import type { TestContext } from "node:test";
import {
  type PubsubEmulator,
  pubsubMissing,
  startPubsubEmulator,
} from "../../local/pubsub/index.js";

// The emulator needs no credentials; this stops google-auth-library probing for a GCE
// metadata server on every client (a MetadataLookupWarning per client otherwise).
process.env.METADATA_SERVER_DETECTION ??= "none";

let cached: string | null | undefined;

/** Why the Pub/Sub emulator cannot run here (null when it can); checked once per file. */
export function pubsubSkipReason(): string | null {
  if (cached === undefined) {
    cached = pubsubMissing();
    if (cached)
      console.warn(`\n!!! SKIPPING the tests that need the Pub/Sub emulator: ${cached}\n`);
  }
  return cached;
}

/** Skips the test loudly when the emulator cannot run; true when it skipped. */
export function skipWithoutPubsub(t: TestContext): boolean {
  const reason = pubsubSkipReason();
  if (!reason) return false;
  console.warn(`!!! SKIPPED "${t.name}": ${reason}`);
  t.skip(reason);
  return true;
}

/** Starts the emulator on a free port; the caller closes it in `after`. */
export function startTestPubsub(projectId = "local-project"): Promise<PubsubEmulator> {
  return startPubsubEmulator({ port: 0, projectId });
}

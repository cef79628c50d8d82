// Readying the gRPC clients a first delivery will call, while it waits on Cloud Storage.
//
// A cold dispatch makes two gRPC clients on its first delivery: the JobService client
// (before CreateCustomJob) and Pub/Sub's publisher client (before the first status event).
// Making each (its descriptors, method settings, gRPC stubs) is CPU with no I/O, and it
// used to run between the delivery's round trips: 40 and 20 ms of a 615 ms cold start
// here, in series with everything else. prepareClients() runs those steps instead while
// the delivery waits on its first Cloud Storage calls (the claim's marker and record, the
// queue config): each step in a turn of the event loop of its own (setImmediate), so a
// step runs once the delivery has sent a request and yielded, and an answer that came in
// meanwhile is handled before the next step.
//
// Invariants: nothing is sent to Vertex or Pub/Sub (initialising a client makes its stubs;
// gRPC connects on the first call; google-auth may ask the metadata server for the
// universe domain, as the first call would have); each client is the one the delivery then uses (the JobService client is
// kept per location by shared/clients.ts, the publisher by Pub/Sub itself); a step that
// fails is left to the real call, which meets the same client and reports the error; the
// preparation never fails a delivery.
import type { Clients } from "./clients.js";
import type { Logger } from "./log.js";

/** Pub/Sub's own maker of its lazily made gapic clients (@google-cloud/pubsub 5.x, pubsub.js). */
type ClientMaker = {
  getClientAsync_?(config: { client: "PublisherClient" }): Promise<{ initialize(): unknown }>;
};

/** One turn of the event loop: resolves in the next check phase, after pending I/O. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The steps, in order; each runs in a turn of its own. */
function steps(clients: Pick<Clients, "jobService" | "pubsub">, region: string) {
  const maker = clients.pubsub as unknown as ClientMaker;
  let publisher: Promise<{ initialize(): unknown }> | undefined;
  return [
    () => clients.jobService(region),
    () => clients.jobService(region).initialize(),
    () => {
      publisher = maker.getClientAsync_?.({ client: "PublisherClient" });
      return publisher;
    },
    async () => (await publisher)?.initialize(),
  ];
}

/**
 * Readies the JobService client of `region` and the Pub/Sub publisher client, one step per
 * turn (`turn`, the event loop's by default). Resolves when done; never rejects.
 */
export async function prepareClients(
  clients: Pick<Clients, "jobService" | "pubsub">,
  region: string,
  log: Pick<Logger, "debug">,
  turn: () => Promise<void> = nextTurn,
): Promise<void> {
  for (const step of steps(clients, region)) {
    await turn();
    try {
      await step();
    } catch (error) {
      log.debug("readying a client failed; the call that needs it reports why", { error });
      return;
    }
  }
}

// The production Pub/Sub topology, created on the emulator (or any Pub/Sub) with the
// official client: the topics of SPEC §1, the push subscriptions that feed the functions
// (dispatch with retry and dead-letter policy, as Terraform deploys it), and pull
// subscriptions from which tests and the local stack read status events and dead letters.
import type { PubSub } from "@google-cloud/pubsub";

export const TOPICS = {
  jobs: "launch-jobs",
  status: "launch-status",
  poll: "launch-poll",
  deadLetter: "launch-jobs-dead-letter",
} as const;

export const SUBSCRIPTIONS = {
  /** launch-jobs → the dispatch function (push), retry policy and dead-letter topic. */
  dispatch: "dispatch",
  /** launch-poll → the poll function (push). */
  poll: "poll",
  /** launch-status, pull: what the local stack prints and tests read. */
  statusLocal: "launch-status-local",
  /** launch-jobs-dead-letter, pull: the messages that ran out of delivery attempts. */
  deadLetterLocal: "launch-jobs-dead-letter-local",
} as const;

export interface TopologyOptions {
  /**
   * Push endpoints, used verbatim. A subscription without one is created as a pull
   * subscription. Behind the Functions Framework, use pushEndpoint() so the URL path
   * names the topic (the framework builds the CloudEvent `source` from it).
   */
  pushEndpoints?: { dispatch?: string; poll?: string };
  /**
   * Redelivery backoff of the dispatch subscription; default 10 s .. 600 s, as Terraform
   * sets it. "none": no retry policy, so a nacked push is redelivered after about 1 s. Google's
   * emulator, given a retry policy, stops redelivering for good after many nacked pushes
   * (refused pushes count); without one it keeps redelivering and dead-letters as configured.
   */
  retry?: { minimumBackoffSeconds: number; maximumBackoffSeconds: number } | "none";
  /** Delivery attempts before a launch message goes to the dead-letter topic; default 5. */
  maxDeliveryAttempts?: number;
  /** Ack deadline of the push subscriptions (the push request timeout); default 60 s. */
  ackDeadlineSeconds?: number;
}

export interface Topology {
  topics: typeof TOPICS;
  subscriptions: typeof SUBSCRIPTIONS;
}

const ALREADY_EXISTS = 6;

/** Creates what is missing; an existing topic or subscription is left as it is. */
export async function createTopology(
  client: PubSub,
  options: TopologyOptions = {},
): Promise<Topology> {
  for (const topic of Object.values(TOPICS)) await ignoreExisting(client.createTopic(topic));
  const ackDeadlineSeconds = options.ackDeadlineSeconds ?? 60;
  const retry = options.retry ?? { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 };
  const retryPolicy =
    retry === "none"
      ? {}
      : {
          retryPolicy: {
            minimumBackoff: { seconds: retry.minimumBackoffSeconds },
            maximumBackoff: { seconds: retry.maximumBackoffSeconds },
          },
        };
  const push = (endpoint: string | undefined) =>
    endpoint ? { pushConfig: { pushEndpoint: endpoint } } : {};
  await ignoreExisting(
    client.topic(TOPICS.jobs).createSubscription(SUBSCRIPTIONS.dispatch, {
      ...push(options.pushEndpoints?.dispatch),
      ackDeadlineSeconds,
      ...retryPolicy,
      deadLetterPolicy: {
        deadLetterTopic: client.topic(TOPICS.deadLetter).name,
        maxDeliveryAttempts: options.maxDeliveryAttempts ?? 5,
      },
    }),
  );
  await ignoreExisting(
    client.topic(TOPICS.poll).createSubscription(SUBSCRIPTIONS.poll, {
      ...push(options.pushEndpoints?.poll),
      ackDeadlineSeconds,
    }),
  );
  // Ordered by the events' ordering key launch_id (SPEC §7), as a production subscriber
  // may be: one launch's events arrive in the order they were published. The stack reads
  // it with synchronous Pull + Acknowledge (local/pubsub/pull.ts), which acknowledges what
  // each Pull returned before the next, so the emulator never holds a key back for an
  // unacknowledged message.
  await ignoreExisting(
    client
      .topic(TOPICS.status)
      .createSubscription(SUBSCRIPTIONS.statusLocal, { enableMessageOrdering: true }),
  );
  await ignoreExisting(
    client.topic(TOPICS.deadLetter).createSubscription(SUBSCRIPTIONS.deadLetterLocal),
  );
  return { topics: TOPICS, subscriptions: SUBSCRIPTIONS };
}

/**
 * The push URL for a function behind the Functions Framework: `BASE/projects/P/topics/T`.
 * The framework turns a raw push body into a CloudEvent and takes the `source`
 * (//pubsub.googleapis.com/projects/P/topics/T) from this path; with any other path it
 * warns and leaves the topic out of `source`.
 */
export function pushEndpoint(base: string, projectId: string, topic: string): string {
  return `${base.replace(/\/+$/, "")}/projects/${projectId}/topics/${topic}`;
}

async function ignoreExisting(creation: Promise<unknown>): Promise<void> {
  try {
    await creation;
  } catch (err) {
    if ((err as { code?: unknown }).code !== ALREADY_EXISTS) throw err;
  }
}

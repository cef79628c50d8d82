// Status events (SPEC §7) on topic `launch-status`: built from a launch record, published
// as JSON with launch_id, queue, state and attempt also as message attributes (so a
// subscriber can filter without decoding), ordered by launch id.
import type { PubSub } from "@google-cloud/pubsub";
import { DispatchError } from "./errors.js";
import type { LaunchRecord, RecordState } from "./schemas/launch_record.js";
import type { StatusEvent } from "./schemas/status_event.js";

/** A status event as published: the shape of StatusEventSchema (shared/schemas/status_event.ts). */
export type StatusEventOut = StatusEvent;

/** Builds the event of a record's current state. `dispatching` is internal: never an event's state. */
export function statusEvent(
  record: LaunchRecord,
  previousState: RecordState | null,
  time: Date,
): StatusEventOut {
  if (record.state === "dispatching") throw new Error("a dispatching launch has no status event");
  return {
    launch_id: record.launch_id,
    queue: record.queue,
    entity: record.entity,
    project: record.project,
    run_id: record.run_id,
    state: record.state,
    previous_state: previousState === "dispatching" ? null : previousState,
    vertex_state: record.vertex_state,
    job_name: record.job_name,
    console_url: record.console_url,
    error: record.error,
    warnings: record.warnings,
    attempt: record.attempt,
    time: time.toISOString(),
  };
}

export type Publish = (event: StatusEventOut) => Promise<void>;

/**
 * The Pub/Sub attributes of an event (SPEC §7), so a subscription filter such as
 * `attributes.state = "failed"` selects without decoding: launch_id, queue, state, attempt.
 */
export function eventAttributes(event: StatusEventOut): Record<string, string> {
  const attributes: Record<string, string> = {
    launch_id: event.launch_id,
    state: event.state,
    attempt: String(event.attempt),
  };
  if (event.queue) attributes.queue = event.queue;
  return attributes;
}

/** The status publisher: publish one event, or flush every batched one (at shutdown). */
export interface StatusPublisher extends Publish {
  /** Sends every event still batched; resolves when Pub/Sub has them (topic.flush()). */
  flush(): Promise<void>;
}

/**
 * Batching of the status topic. The Node client batches ordered messages per ordering key
 * (one queue per launch id), so events of different launches never share a publish call.
 * `maxMessages: 1` sends a lone event at once instead of after a timer; events of one
 * launch published while its previous publish is in flight are still batched (the client
 * overfills the next batch while one is in flight and sends it when that one returns).
 */
export const STATUS_BATCHING = { maxMessages: 1, maxMilliseconds: 5 } as const;

/**
 * Publishes to the status topic with ordering key `launch_id`, so an ordered subscription
 * sees one launch's events in order; a failure is `pubsub_unavailable` (retryable), and
 * the key is resumed so the next publish of that launch is not refused.
 */
export function pubsubPublisher(
  pubsub: PubSub,
  topicName: string,
  batching: { maxMessages: number; maxMilliseconds: number } = STATUS_BATCHING,
): StatusPublisher {
  const topic = pubsub.topic(topicName, { batching, messageOrdering: true });
  const publish = async (event: StatusEventOut) => {
    try {
      await topic.publishMessage({
        json: event,
        attributes: eventAttributes(event),
        orderingKey: event.launch_id,
      });
    } catch (err) {
      topic.resumePublishing(event.launch_id);
      throw new DispatchError(
        "pubsub_unavailable",
        `publishing a status event to ${topicName} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  return Object.assign(publish, { flush: () => topic.flush() });
}

/** The Cloud Console page of a CustomJob. */
export function consoleUrl(jobName: string): string | null {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/customJobs\/([^/]+)$/.exec(jobName);
  if (!m) return null;
  return `https://console.cloud.google.com/vertex-ai/locations/${m[2]}/training/${m[3]}/cpu?project=${m[1]}`;
}

// Status events (SPEC §7) on topic `launch-status`: built from a launch record, published
// as JSON with the state, queue and launch id also as message attributes (so a
// subscriber can filter without decoding).
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

/** Publishes to the status topic; a failure is `pubsub_unavailable` (retryable). */
export function pubsubPublisher(pubsub: PubSub, topicName: string): Publish {
  const topic = pubsub.topic(topicName, { batching: { maxMessages: 100, maxMilliseconds: 5 } });
  return async (event) => {
    const attributes: Record<string, string> = { state: event.state, launch_id: event.launch_id };
    if (event.queue) attributes.queue = event.queue;
    try {
      await topic.publishMessage({ json: event, attributes });
    } catch (err) {
      throw new DispatchError(
        "pubsub_unavailable",
        `publishing a status event to ${topicName} failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  };
}

/** The Cloud Console page of a CustomJob. */
export function consoleUrl(jobName: string): string | null {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/customJobs\/([^/]+)$/.exec(jobName);
  if (!m) return null;
  return `https://console.cloud.google.com/vertex-ai/locations/${m[2]}/training/${m[3]}/cpu?project=${m[1]}`;
}

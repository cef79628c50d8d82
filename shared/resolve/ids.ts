// Identities of a launch (SPEC §2): the idempotency key, the launch id (label-safe hash
// of the key, used as the `launch-id` label) and the W&B run id (deterministic when the
// message gives none, so a redelivered message gets the same id).
import { createHash } from "node:crypto";
import type { LaunchMessage } from "../schemas/message.js";

/** Pub/Sub attribute `idempotency_key`, else `queue/entity/project/run_id` when run_id is given, else the message id. */
export function idempotencyKeyFor(
  message: LaunchMessage,
  attributes: Record<string, string>,
  messageId: string,
): string {
  const attribute = attributes.idempotency_key;
  if (attribute !== undefined && attribute !== "") return attribute;
  if (message.run_id !== undefined) {
    return `${message.queue}/${message.entity ?? ""}/${message.project ?? ""}/${message.run_id}`;
  }
  return messageId;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** 20 lowercase hex characters of SHA-256(key): a valid label value and a short record name. */
export function launchIdFor(idempotencyKey: string): string {
  return sha256(`launch-id:${idempotencyKey}`).toString("hex").slice(0, 20);
}

const RUN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** The message's run_id, else 8 characters [a-z0-9] derived from the idempotency key. */
export function runIdFor(message: LaunchMessage, idempotencyKey: string): string {
  if (message.run_id !== undefined) return message.run_id;
  const digest = sha256(`run-id:${idempotencyKey}`);
  let out = "";
  for (let i = 0; i < 8; i++) out += RUN_ID_ALPHABET[(digest[i] ?? 0) % RUN_ID_ALPHABET.length];
  return out;
}

/** What every resolver step knows about the launch it resolves. */
export interface LaunchIds {
  queueName: string;
  runId: string;
  launchId: string;
  entity: string;
  /** The W&B project, lower-cased as W&B does (LaunchProject): in ${project_name}, WANDB_PROJECT, labels, paths. */
  wandbProject: string;
}

export function launchIdsFor(
  queueName: string,
  message: LaunchMessage,
  idempotencyKey: string,
): LaunchIds {
  return {
    queueName,
    runId: runIdFor(message, idempotencyKey),
    launchId: launchIdFor(idempotencyKey),
    entity: message.entity ?? "",
    wandbProject: (message.project ?? "").toLowerCase(),
  };
}

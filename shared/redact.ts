// Secret values (the dispatcher's WANDB_API_KEY) masked in anything the product stores or
// publishes: a launch record and its outbox event are built partly from user input (an
// unknown key is echoed in its error), so a secret sent back in a message would otherwise
// be written to the state bucket and published on launch-status. The logger masks lines
// the same way (shared/log.ts).
import { REDACTED } from "./log.js";

/** Secrets worth masking: set, and long enough that masking cannot garble ordinary text. */
export function maskable(secrets: ReadonlyArray<string | undefined>): string[] {
  return secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
}

/** `value` with every occurrence of each secret, in any string or key, replaced by REDACTED. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const text = JSON.stringify(value);
  if (!secrets.some((s) => text.includes(JSON.stringify(s).slice(1, -1)))) return value;
  let masked = text;
  for (const secret of secrets)
    masked = masked.split(JSON.stringify(secret).slice(1, -1)).join(REDACTED);
  return JSON.parse(masked) as T;
}

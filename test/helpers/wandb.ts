// W&B's side of a webhook, for tests: the payload templates of test/fixtures/wandb filled
// the way W&B fills them, and requests shaped like the ones it sends.
//
// How W&B fills a template: the template is JSON, and every `${name}` inside its strings
// is replaced by the event's value, so a value with quotes, backslashes or newlines comes
// out JSON-escaped. `fillTextually` is the naive alternative (plain text replacement),
// used to show what a value breaks when it is pasted into JSON unescaped.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { signBody } from "../../shared/ingest/auth.js";

const DIR = join(import.meta.dirname, "..", "fixtures", "wandb");
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g;

export type EventValues = Record<string, string>;

export function readTemplate(name: string): string {
  return readFileSync(join(DIR, name), "utf8");
}

export function readEvents(): { alias_added: EventValues[]; model_linked: EventValues[] } {
  return JSON.parse(readFileSync(join(DIR, "events.json"), "utf8"));
}

function substitute(text: string, values: EventValues): string {
  return text.replace(VARIABLE, (_m, name: string) => {
    const value = values[name];
    if (value === undefined)
      throw new Error(`the template uses \${${name}}, which the event does not fill`);
    return value;
  });
}

function fillStrings(value: unknown, values: EventValues): unknown {
  if (typeof value === "string") return substitute(value, values);
  if (Array.isArray(value)) return value.map((v) => fillStrings(v, values));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [substitute(k, values), fillStrings(v, values)]),
    );
  }
  return value;
}

/** The body W&B sends for `template` and one event's values. */
export function fillTemplate(template: string, values: EventValues): string {
  return JSON.stringify(fillStrings(JSON.parse(template), values), null, 2);
}

/** Plain text replacement, values unescaped (not what W&B does). */
export function fillTextually(template: string, values: EventValues): string {
  return substitute(template, values);
}

/** Headers W&B sends: the bearer token, and the signature when the webhook has a secret. */
export function wandbHeaders(body: string, token: string, secret?: string): Record<string, string> {
  return {
    "Content-Type": "application/json",
    Authorization: `Bearer ${token}`,
    ...(secret ? { "X-Wandb-Signature": signBody(body, secret) } : {}),
  };
}

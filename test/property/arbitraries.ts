/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// fast-check generators of hostile and broken input: strings with unicode, control
// characters and template syntax in odd places, wrong types, huge and deeply nested values,
// camelCase and unknown keys, env and label injection. Each starts from a valid value and
// breaks it, so the generated inputs land near the boundary the schemas draw.
import fc from "fast-check";

export const CANARY = "wandb-canary-5e1f0c9a7b3d2e41";

/** Strings that have broken parsers and renderers before. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\nb",
    "\r\n",
    "\t",
    "\u202e",
    "\ud800",
    "é",
    "😀",
    '"',
    "\\",
    "${image_uri}",
    "${WANDB_API_KEY}",
    "${run_id}",
    "${nope}",
    "${",
    "{{gpu}}",
    "{{ gpu }}",
    "{{",
    "}}",
    "$(rm -rf /)",
    "`id`",
    "__proto__",
    "constructor",
    "A=B",
    "x".repeat(5000),
    CANARY,
  ),
);

/** Any JSON-ish value, including ones no schema expects. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(hostileString, fc.integer()), { maxLength: 4 }),
  fc.dictionary(hostileString, fc.oneof(hostileString, fc.integer()), { maxKeys: 4 }),
);

/** An object nested `depth` levels deep. */
export function nested(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = { [`k${i % 7}`]: value };
  return value;
}

export const deepOrHuge: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 1, max: 3000 }).map((d) => nested(d)),
  fc.integer({ min: 1, max: 400 }).map((n) => "x".repeat(n * 1024)),
  fc.integer({ min: 1, max: 5000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
);

export const envName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "LR",
    "WANDB_API_KEY",
    "WANDB_CONFIG",
    "WANDB_RUN_ID",
    "LD_PRELOAD",
    "PATH",
    "A=B",
    "A\nB",
    "1ABC",
    "",
    "wandb_api_key",
    "__proto__",
  ),
  hostileString,
);

export const labelKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "team",
    "launch-id",
    "managed-by",
    "Team",
    "a".repeat(64),
    "a".repeat(63),
    "é",
    "x y",
    "",
  ),
  hostileString,
);

/** camelCase spellings W&B's UI and SDK users reach for, and keys no schema has. */
export const strayKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "runId",
    "imageUri",
    "entryPoint",
    "runConfig",
    "templateVariables",
    "resourceArgs",
    "api_key",
    "Queue",
  ),
  hostileString,
);

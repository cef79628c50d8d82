/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal strings here. */
// Generators of hostile and broken queue configs: the seed's default queue with 0-4 changes
// (machine, accelerator, replicas, images with template syntax, env and label injection,
// bucket and region mismatches, wrong types, camelCase and unknown keys, missing sections),
// as YAML or JSON text, plus YAML that has hurt parsers (an alias bomb, unquoted {{var}}).
import fc from "fast-check";
import { stringify } from "yaml";
import { seedQueue } from "../helpers/resolve_fixtures.js";
import { anyValue, envName, hostileString, labelKey, strayKey } from "./arbitraries.js";

function baseConfig(): Record<string, unknown> {
  return seedQueue("gs://staging");
}

type Path = Array<string | number>;
const POOL: Path = ["spec", "worker_pool_specs", 0];

/** Sets a value at a path, creating objects on the way (a list index on a non-list replaces it). */
function setPath(root: Record<string, unknown>, path: Path, value: unknown): void {
  let at: Record<string | number, unknown> = root;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      if (value === undefined) delete at[key];
      else at[key] = value;
      return;
    }
    const next = at[key];
    if (next === null || typeof next !== "object")
      at[key] = typeof path[i + 1] === "number" ? [] : {};
    at = at[key] as Record<string | number, unknown>;
  }
}

const change = fc.oneof(
  fc.tuple(
    fc.constant([...POOL, "machine_spec", "machine_type"]),
    fc.oneof(
      fc.constantFrom(
        "a2-highgpu-1g",
        "g2-standard-8",
        "n1-standard-4",
        "e2-standard-4",
        "n1-bogus-3",
        "",
      ),
      hostileString,
    ),
  ),
  fc.tuple(
    fc.constant([...POOL, "machine_spec", "accelerator_type"]),
    fc.constantFrom(
      "NVIDIA_TESLA_T4",
      "NVIDIA_L4",
      "NVIDIA_TESLA_A100",
      "TPU_V2",
      "nvidia-tesla-t4",
      "{{gpu}}",
    ),
  ),
  fc.tuple(
    fc.constant([...POOL, "machine_spec", "accelerator_count"]),
    fc.oneof(fc.integer({ min: -1, max: 16 }), fc.constant("1")),
  ),
  fc.tuple(
    fc.constant([...POOL, "replica_count"]),
    fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant(1.5), fc.constant("1")),
  ),
  fc.tuple(
    fc.constant([...POOL, "container_spec", "image_uri"]),
    fc.oneof(hostileString, fc.constantFrom("{{image}}", "${image_uri}:tag", "gcr.io/x/y:1")),
  ),
  fc.tuple(
    fc.constant([...POOL, "container_spec", "env"]),
    fc.array(fc.record({ name: envName, value: hostileString }), { maxLength: 3 }),
  ),
  fc.tuple(
    fc.constant([...POOL, "container_spec", "command"]),
    fc.array(hostileString, { maxLength: 3 }),
  ),
  fc.tuple(
    fc.constant([...POOL, "disk_spec", "boot_disk_size_gb"]),
    fc.oneof(fc.integer({ min: -10, max: 70_000 }), anyValue),
  ),
  fc.tuple(fc.constant(["spec", "labels"]), fc.dictionary(labelKey, hostileString, { maxKeys: 3 })),
  fc.tuple(
    fc.constant(["spec", "staging_bucket"]),
    fc.oneof(
      fc.constantFrom("gs://staging", "gs://nope-bucket", "s3://x", "gs://", "staging"),
      hostileString,
    ),
  ),
  fc.tuple(
    fc.constant(["run", "timeout"]),
    fc.oneof(fc.constantFrom("3600s", "1h", "-1s", "0s"), fc.integer()),
  ),
  fc.tuple(
    fc.constant(["run", "service_account"]),
    fc.oneof(
      fc.constantFrom("trainer@local-project.iam.gserviceaccount.com", "nobody@x", ""),
      hostileString,
    ),
  ),
  fc.tuple(
    fc.constantFrom(
      ["max_jobs"],
      ["start_timeout"],
      ["max_retries"],
      ["region"],
      ["project"],
      ["allow_resource_overrides"],
    ),
    anyValue,
  ),
  fc.tuple(fc.constant(["region"]), fc.constantFrom("us-central1", "europe-west4", "mars-north1")),
  fc.tuple(
    fc.constant(["template_variables"]),
    fc.dictionary(hostileString, anyValue, { maxKeys: 2 }),
  ),
  fc.tuple(
    fc
      .tuple(fc.constantFrom("spec", "run", "top"), strayKey)
      .map(([where, key]) => (where === "top" ? [key] : [where, key])),
    anyValue,
  ),
  fc.tuple(
    fc.constantFrom(
      ["spec"],
      ["run"],
      ["spec", "worker_pool_specs"],
      [...POOL, "machine_spec"],
      [...POOL, "container_spec"],
    ),
    fc.constant(undefined),
  ),
);

export const configText: fc.Arbitrary<string> = fc
  .tuple(fc.array(change, { maxLength: 4 }), fc.boolean())
  .map(([changes, asJson]) => {
    const config = baseConfig();
    for (const [path, value] of changes) setPath(config, [...path], value);
    return asJson ? JSON.stringify(config) : stringify(config);
  });

/** YAML the parser must survive: an alias bomb, unquoted {{var}}, tabs, tags, a bare scalar. */
export const NASTY_YAML = [
  `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nspec: *d\n`,
  "spec:\n  worker_pool_specs:\n    - machine_spec: {machine_type: {{machine}}}\n",
  "spec:\n\tworker_pool_specs: []\n",
  "spec: !!binary aGVsbG8=\n",
  "just a string",
  "- a\n- list\n",
  "",
];

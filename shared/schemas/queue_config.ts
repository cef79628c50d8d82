/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: W&B macros such as ${image_uri} are literal text in the descriptions. */
// The queue config (SPEC §3): the `spec` and `run` sections of a W&B "GCP Vertex" queue,
// plus the dispatcher's own keys. Keys are snake_case; unknown keys are errors with a
// did-you-mean hint. These schemas are the single source of truth; types are inferred.
//
// Two stages: `parseQueueConfig` checks a queue file as written (template references
// such as "{{gpus}}" may still stand where numbers go); `SpecSchema`/`RunSchema` check
// spec/run again after overrides, template variables and macros have been applied.
import YAML from "yaml";
import { z } from "zod";
import { DispatchError, formatPath, type Issue, issuesError } from "../errors.js";
import { checkTemplateValue, templateRefs } from "../resolve/template.js";
import { ENV_NAME_RE, SECRET_ENV_NAMES, TEMPLATE_NAME_RE } from "./message.js";
import {
  RESERVATION_AFFINITY_TYPES,
  RESERVATION_NAME_KEY,
  SCHEDULING_STRATEGIES,
} from "./vertex_enums.js";
import {
  childSchema,
  evenWithOtherIssues,
  markPlaceholder,
  safeParseWithIssues,
  unwrapSchema,
} from "./zod_issues.js";

/** `gs://bucket[/path]`, bucket names per Cloud Storage rules (3-63 chars, lowercase). */
export const GCS_URI_RE = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])(\/.*)?$/;
/** A service-account email (user-managed, default compute, App Engine). */
export const SERVICE_ACCOUNT_RE =
  /^[a-z0-9][a-z0-9._-]*@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$/;
/** A GCP project id, optionally domain-scoped (`example.com:my-project`). */
export const PROJECT_ID_RE = /^(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

const gcsUri = z.string().regex(GCS_URI_RE, {
  error:
    'expected a Cloud Storage URI "gs://bucket[/path]" (bucket: 3-63 lowercase letters, digits, ".", "_", "-")',
});

/** A bare bucket name (`my-bucket[/path]`), which the Vertex SDK (and so the W&B agent) turns into gs://my-bucket. */
const BARE_BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](\/.*)?$/;

/** `gs://` + a bare staging bucket name; a gs:// URI unchanged. */
export function withGcsScheme(bucket: string): string {
  return bucket.startsWith("gs://") ? bucket : `gs://${bucket}`;
}

const stagingBucket = z.string().regex(new RegExp(`^(?:gs://)?${BARE_BUCKET_RE.source.slice(1)}`), {
  error:
    'expected a Cloud Storage URI "gs://bucket[/path]" or a bare bucket name (bucket: 3-63 lowercase letters, digits, ".", "_", "-")',
});
const serviceAccount = z.string().regex(SERVICE_ACCOUNT_RE, {
  error: "expected a service-account email, e.g. trainer@my-project.iam.gserviceaccount.com",
});
const stringList = z.array(z.string());
const seconds = (what: string, min: number) => {
  const message = `expected ${what} as a whole number of seconds, e.g. 3600`;
  return z
    .number({
      error: (iss) =>
        iss.code === "invalid_type" && iss.input !== undefined ? message : undefined,
    })
    .int({ error: message })
    .min(min);
};

// The value's own error never quotes it: an env value may be a secret.
const EnvVarSchema = z.strictObject({
  name: z
    .string()
    .regex(ENV_NAME_RE, {
      error: "environment variable names are C identifiers: [A-Za-z_][A-Za-z0-9_]*",
    })
    .refine((name) => !(SECRET_ENV_NAMES as readonly string[]).includes(name), {
      error: (iss) =>
        `${String(iss.input)} may not be set in a worker pool's env: the dispatcher injects it from its own secret ($${String(iss.input)}); remove this entry`,
    })
    .describe(
      "Variable name, a C identifier. WANDB_API_KEY is refused; of the injected W&B names only WANDB_BASE_URL, WANDB_DOCKER, WANDB_NAME, WANDB_USERNAME may be set here.",
    ),
  value: z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? "required: expected a string"
          : 'expected a string (quote numbers and booleans in YAML: "1")',
    })
    .describe('Variable value, a string (quote numbers and booleans in YAML: "1").'),
});

/** A Compute Engine reservation's full resource name (reservation_affinity.proto). */
export const RESERVATION_RE = /^projects\/[^/]+\/zones\/[^/]+\/reservations\/[^/]+$/;

// reservation_affinity.proto: the type is required; SPECIFIC_RESERVATION names the
// reservation with key compute.googleapis.com/reservation-name and its full resource
// name(s) as values; the other types take neither.
const ReservationAffinitySchema = z
  .strictObject({
    reservation_affinity_type: z
      .enum(RESERVATION_AFFINITY_TYPES)
      .describe("NO_RESERVATION, ANY_RESERVATION or SPECIFIC_RESERVATION."),
    key: z
      .string()
      .min(1)
      .optional()
      .describe("For SPECIFIC_RESERVATION: compute.googleapis.com/reservation-name."),
    values: z
      .array(
        z.string().regex(RESERVATION_RE, {
          error:
            "expected a reservation's full resource name: projects/PROJECT/zones/ZONE/reservations/NAME",
        }),
      )
      .optional()
      .describe(
        "For SPECIFIC_RESERVATION: the reservation's full resource name, projects/PROJECT/zones/ZONE/reservations/NAME.",
      ),
  })
  .superRefine((ra, ctx) => {
    if (ra.reservation_affinity_type === "SPECIFIC_RESERVATION") {
      if (ra.key !== RESERVATION_NAME_KEY) {
        ctx.addIssue({
          code: "custom",
          path: ["key"],
          message: `SPECIFIC_RESERVATION needs key: ${RESERVATION_NAME_KEY}${ra.key === undefined ? "" : `, got ${JSON.stringify(ra.key)}`}`,
        });
      }
      if (!ra.values?.length) {
        ctx.addIssue({
          code: "custom",
          path: ["values"],
          message:
            "SPECIFIC_RESERVATION needs values: the reservation's full resource name, projects/PROJECT/zones/ZONE/reservations/NAME",
        });
      }
    } else if (
      (ra.reservation_affinity_type === "NO_RESERVATION" ||
        ra.reservation_affinity_type === "ANY_RESERVATION") &&
      (ra.key !== undefined || ra.values !== undefined)
    ) {
      ctx.addIssue({
        code: "custom",
        path: [ra.key !== undefined ? "key" : "values"],
        message: `key and values name a reservation for SPECIFIC_RESERVATION only; remove them for ${ra.reservation_affinity_type}`,
      });
    }
  }, evenWithOtherIssues);

const MachineSpecSchema = z.strictObject({
  machine_type: z
    .string()
    .min(1)
    .describe(
      "Compute Engine machine type Vertex training offers, e.g. n1-standard-4, a2-highgpu-1g, ct5lp-hightpu-4t.",
    ),
  // Names are checked against the explicit enum list (with did-you-mean) in compute.ts.
  accelerator_type: z
    .string()
    .min(1)
    .optional()
    .describe(
      "AcceleratorType enum name, e.g. NVIDIA_TESLA_T4, NVIDIA_L4, TPU_V3; ACCELERATOR_TYPE_UNSPECIFIED for none.",
    ),
  accelerator_count: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Accelerators per replica; must be a count the machine type takes."),
  tpu_topology: z
    .string()
    .regex(/^\d+x\d+(x\d+)?$/, { error: 'expected a TPU topology such as "2x2" or "2x2x1"' })
    .optional()
    .describe('TPU slice topology such as "2x2" or "2x2x1"; required for TPU VM machine types.'),
  // NVIDIA multi-instance GPU partitions (machine_resources.proto); needs accelerator_count 1 (compute.ts).
  gpu_partition_size: z
    .string()
    .regex(/^\d+g\.\d+gb$/, {
      error: 'expected an NVIDIA GPU partition size such as "1g.10gb"',
    })
    .optional()
    .describe(
      'NVIDIA multi-instance GPU partition such as "1g.10gb" (an NVIDIA accelerator, accelerator_count 1).',
    ),
  reservation_affinity: ReservationAffinitySchema.optional().describe(
    "Which Compute Engine reservation the job's VMs consume.",
  ),
});

const DiskSpecSchema = z.strictObject({
  boot_disk_type: z
    .string()
    .min(1)
    .optional()
    .describe("pd-ssd (Vertex's default), pd-standard or hyperdisk-balanced."),
  boot_disk_size_gb: z.number().int().optional().describe("Boot disk size, 100-64,000 GB."),
});

const ContainerSpecSchema = z.strictObject({
  image_uri: z
    .string()
    .min(1)
    .describe(
      "Container image, usually ${image_uri} (the launch's image); Artifact Registry or Container Registry, else it must be public.",
    ),
  command: stringList
    .optional()
    .describe("Overrides the image's ENTRYPOINT; replaced by the launch's entry_point."),
  args: stringList
    .optional()
    .describe("Arguments after the launch's args (entry point + launch args + these)."),
  env: z
    .array(EnvVarSchema)
    .optional()
    .describe(
      "The queue's own env, first in the container's env; the W&B variables are added after it.",
    ),
});

const PythonPackageSpecSchema = z.strictObject({
  executor_image_uri: z
    .string()
    .min(1)
    .describe("A Vertex prebuilt training image that runs the package."),
  package_uris: z
    .array(gcsUri)
    .min(1)
    .describe("gs:// URIs of the Python package(s) to install (at most 100)."),
  python_module: z.string().min(1).describe("The module to run, e.g. trainer.task."),
  args: stringList.optional().describe("Arguments after the launch's args."),
  env: z
    .array(EnvVarSchema)
    .optional()
    .describe("The queue's own env, first; the W&B variables are added after it."),
});

const NfsMountSchema = z.strictObject({
  server: z.string().min(1).describe("NFS server IP address or host name."),
  path: z
    .string()
    .regex(/^\//, { error: 'expected an absolute export path starting with "/"' })
    .describe('The export path on the server, starting with "/".'),
  mount_point: z.string().min(1).describe("Mounted under /mnt/nfs/<mount_point> in the container."),
});

const WorkerPoolSpecSchema = z
  .strictObject({
    machine_spec: MachineSpecSchema.describe("The machine each replica runs on."),
    replica_count: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Replicas in this pool (default 1; the first pool, the chief, takes 1)."),
    disk_spec: DiskSpecSchema.optional().describe("Boot disk of each replica."),
    container_spec: ContainerSpecSchema.optional().describe(
      "Run a container (this or python_package_spec).",
    ),
    python_package_spec: PythonPackageSpecSchema.optional().describe(
      "Run a Python package on a prebuilt image (this or container_spec).",
    ),
    nfs_mounts: z.array(NfsMountSchema).optional().describe("NFS shares to mount."),
  })
  .superRefine((pool, ctx) => {
    const hasContainer = pool.container_spec !== undefined;
    const hasPackage = pool.python_package_spec !== undefined;
    if (hasContainer === hasPackage) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: hasContainer
          ? "give either container_spec or python_package_spec, not both"
          : "required: a container_spec (with image_uri) or a python_package_spec",
      });
    }
  }, evenWithOtherIssues);

/**
 * An empty worker pool `{}` after the first: a placeholder Vertex skips (e.g. position 1
 * left empty so that a reduction server can take position 2). Sent as an empty WorkerPoolSpec.
 */
export type EmptyPool = Record<string, never>;

/** True for the empty placeholder pool `{}`. */
export function isEmptyPool(pool: unknown): pool is EmptyPool {
  return (
    pool !== null &&
    typeof pool === "object" &&
    !Array.isArray(pool) &&
    Object.keys(pool).length === 0
  );
}

// `abort`: a non-empty pool fails this option outright, so zod reports the real pool's
// issues (zod_issues.ts picks them out of the union) instead of "unknown key" per field.
export const EmptyPoolSchema = markPlaceholder(
  z
    .custom<EmptyPool>(isEmptyPool, {
      abort: true,
      error: "expected {} (an empty placeholder pool)",
    })
    .describe("{}: an empty placeholder position Vertex skips (not the first pool)."),
);

const WorkerPoolSpecsSchema = z
  .array(z.union([EmptyPoolSchema, WorkerPoolSpecSchema]))
  .min(1)
  .superRefine((pools, ctx) => {
    if (pools[0] !== undefined && isEmptyPool(pools[0])) {
      ctx.addIssue({
        code: "custom",
        path: [0],
        message:
          "the first worker pool (the chief) cannot be empty: give it a machine_spec and a container_spec; only later pools may be {} placeholders",
      });
    }
  });

/** `spec` after overrides, template variables and macros. */
export const SpecSchema = z.strictObject({
  worker_pool_specs: WorkerPoolSpecsSchema.describe(
    "The job's worker pools: the first is the chief; an empty {} after it is a placeholder position Vertex skips.",
  ),
  staging_bucket: stagingBucket.describe(
    "gs://bucket[/path] or a bare bucket name (read as gs://NAME): a regional bucket in the job's region; outputs go to {staging_bucket}/{run_id} unless base_output_dir is set.",
  ),
  base_output_dir: gcsUri
    .optional()
    .describe("gs:// URI of the job's output directory (default {staging_bucket}/{run_id})."),
  labels: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      "The job's labels (Google's label rules; at most 58: vertex-dispatch adds 6 of its own).",
    ),
  encryption_spec_key_name: z
    .string()
    .regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/, {
      error: "expected a Cloud KMS key: projects/P/locations/L/keyRings/R/cryptoKeys/K",
    })
    .optional()
    .describe(
      "Cloud KMS key that encrypts the job: projects/P/locations/L/keyRings/R/cryptoKeys/K.",
    ),
  display_name: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The job's display name (at most 128 characters; default: the run name, else wandb-{run_id}).",
    ),
  service_account: serviceAccount
    .optional()
    .describe(
      "The service account the job runs as, where W&B's docs put it (run.service_account also works; not both, differently).",
    ),
});
export type Spec = z.output<typeof SpecSchema>;
export type WorkerPoolSpec = z.output<typeof WorkerPoolSpecSchema>;
/** A pool as written: a full spec, or the `{}` placeholder after the first. */
export type PoolSlot = Spec["worker_pool_specs"][number];

/** `run` after overrides, template variables and macros. */
export const RunSchema = z.strictObject({
  service_account: serviceAccount
    .optional()
    .describe(
      "The service account the job runs as (before spec.service_account, the queue's service_account and $DEFAULT_JOB_SERVICE_ACCOUNT).",
    ),
  timeout: seconds("timeout", 1)
    .optional()
    .describe("Maximum job run time, in whole seconds (scheduling.timeout)."),
  network: z
    .string()
    .regex(/^projects\/[^/]+\/global\/networks\/[^/]+$/, {
      error: "expected a VPC network: projects/PROJECT_NUMBER/global/networks/NETWORK",
    })
    .optional()
    .describe("VPC network the job is peered to: projects/PROJECT_NUMBER/global/networks/NETWORK."),
  reserved_ip_ranges: z
    .array(z.string().min(1))
    .optional()
    .describe("Names of reserved IP ranges in the network for the job (needs network)."),
  enable_web_access: z
    .boolean()
    .optional()
    .describe("Interactive shell access to the training containers."),
  enable_dashboard_access: z
    .boolean()
    .optional()
    .describe("Access to the training job's dashboard."),
  tensorboard: z
    .string()
    .regex(/^projects\/[^/]+\/locations\/[^/]+\/tensorboards\/[^/]+$/, {
      error: "expected a Tensorboard resource: projects/P/locations/L/tensorboards/ID",
    })
    .optional()
    .describe("Vertex TensorBoard the job writes to: projects/P/locations/L/tensorboards/ID."),
  experiment: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Vertex experiment: a name (a metadata context id, in the job's project and region) or a full contexts/ resource name.",
    ),
  experiment_run: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Vertex experiment run (needs experiment): a name, sent as context EXPERIMENT-RUN, or a full resource name.",
    ),
  restart_job_on_worker_restart: z
    .boolean()
    .optional()
    .describe("Restart the whole job when a worker restarts."),
  disable_retries: z
    .boolean()
    .optional()
    .describe("Vertex does not retry the job on internal errors (and does not restart workers)."),
  scheduling_strategy: z
    .enum(SCHEDULING_STRATEGIES)
    .optional()
    .describe(
      "STANDARD (on-demand), SPOT (preemptible Spot VMs) or FLEX_START (Dynamic Workload Scheduler).",
    ),
  max_wait_duration: seconds("max_wait_duration", 0)
    .optional()
    .describe("FLEX_START only: seconds to wait for resources (0: wait indefinitely)."),
  persistent_resource_id: z
    .string()
    .min(1)
    .optional()
    .describe("Run on this Vertex persistent resource (in the job's region)."),
  // Accepted and ignored: dispatch is always asynchronous.
  sync: z.boolean().optional().describe("Accepted and ignored: dispatch is always asynchronous."),
  synchronous: z
    .boolean()
    .optional()
    .describe("Accepted and ignored: dispatch is always asynchronous."),
});
export type Run = z.output<typeof RunSchema>;

export const TemplateVariableSchema = z
  .strictObject({
    schema: z
      .strictObject({
        type: z
          .enum(["integer", "number", "string"])
          .describe("The value's type: integer, number or string."),
        minimum: z
          .number()
          .optional()
          .describe("Smallest value allowed (integer and number only)."),
        maximum: z.number().optional().describe("Largest value allowed (integer and number only)."),
        enum: z
          .array(z.union([z.string(), z.number()]))
          .min(1)
          .optional()
          .describe("The only values allowed, of the variable's type."),
      })
      .describe("What values the variable takes (W&B's JSON-Schema subset)."),
    default: z
      .union([z.string(), z.number()])
      .optional()
      .describe("The value when the launch gives none; it must satisfy the schema."),
    description: z.string().optional().describe("What the variable is for (for people; not used)."),
  })
  .superRefine((def, ctx) => {
    const { type, minimum, maximum } = def.schema;
    if (type === "string" && (minimum !== undefined || maximum !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["schema"],
        message: "minimum/maximum apply to integer and number variables only",
      });
    }
    if (minimum !== undefined && maximum !== undefined && minimum > maximum) {
      ctx.addIssue({
        code: "custom",
        path: ["schema", "minimum"],
        message: `minimum ${minimum} is above maximum ${maximum}`,
      });
    }
    if (def.default !== undefined) {
      const checked = checkTemplateValue("default", def, def.default);
      if ("problem" in checked) {
        ctx.addIssue({
          code: "custom",
          path: ["default"],
          message: checked.problem.replace('template variable "default"', "the default"),
        });
      }
    }
    const want = type === "string" ? "string" : "number";
    def.schema.enum?.forEach((v, i) => {
      if (typeof v !== want || (type === "integer" && !Number.isInteger(v))) {
        ctx.addIssue({
          code: "custom",
          path: ["schema", "enum", i],
          message: `enum values of a ${type} variable must be of type ${type}`,
        });
      }
    });
  }); // Runs only on a well-formed definition: it reads schema.type.
export type TemplateVariable = z.output<typeof TemplateVariableSchema>;

const section = z.record(z.string(), z.unknown());

export const QueueConfigSchema = z.strictObject({
  project: z
    .string()
    .regex(PROJECT_ID_RE, {
      error: "expected a GCP project id: 6-30 lowercase letters, digits or hyphens",
    })
    .optional()
    .describe("GCP project of the job (default $GOOGLE_CLOUD_PROJECT)."),
  region: z
    .string()
    .min(1)
    .optional()
    .describe("Vertex training region of the job, e.g. us-central1 (default $VERTEX_REGION)."),
  max_jobs: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      "Jobs of this queue allowed at once (default unlimited); beyond it launches wait as queued.",
    ),
  start_timeout: seconds("start_timeout", 1)
    .default(1800)
    .describe("Seconds a job may stay QUEUED/PENDING before it is cancelled and the launch fails."),
  max_retries: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Resubmissions after a preemption or capacity loss."),
  allow_resource_overrides: z
    .boolean()
    .default(false)
    .describe("Lets a launch's resource_args override spec/run."),
  template_variables: z
    .record(
      z
        .string()
        .regex(TEMPLATE_NAME_RE, { error: "template variable names are [A-Za-z_][A-Za-z0-9_-]*" }),
      TemplateVariableSchema,
    )
    .default({})
    .describe(
      'Template variables a launch may set, by name; referenced as "{{name}}" in spec/run.',
    ),
  service_account: serviceAccount
    .optional()
    .describe("The job's service account when neither run nor spec names one."),
  spec: section.describe('The CustomJob spec, as a W&B "GCP Vertex" queue holds it.'),
  run: section
    .default({})
    .describe('The Vertex SDK run() arguments, as a W&B "GCP Vertex" queue holds them.'),
});

/** A parsed queue config; `spec`/`run` are checked but still hold template references. */
export type QueueConfig = z.output<typeof QueueConfigSchema>;

const QUOTE_HINT = "quote template references in YAML";

const HAS_TEMPLATE_REF = /\{\{\s*[A-Za-z_][A-Za-z0-9_-]*\s*\}\}/;

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = data;
  for (const segment of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[segment];
  }
  return v;
}

/** Walks every string (and key) of a section; reports unquoted YAML `{{x}}` (parsed as a mapping). */
function walkStrings(
  data: unknown,
  path: (string | number)[],
  onString: (text: string, path: (string | number)[]) => void,
  issues: Issue[],
): void {
  if (typeof data === "string") onString(data, path);
  else if (Array.isArray(data))
    data.forEach((v, i) => {
      walkStrings(v, [...path, i], onString, issues);
    });
  else if (data !== null && typeof data === "object") {
    const entries = Object.entries(data);
    const only = entries[0];
    if (
      entries.length === 1 &&
      only &&
      only[1] === null &&
      /^\{\s*[A-Za-z_][A-Za-z0-9_-]*\s*\}$/.test(only[0])
    ) {
      const name = only[0].replace(/[{}\s]/g, "");
      issues.push({
        path: formatPath(path),
        message: `${QUOTE_HINT}: write "{{${name}}}" (a bare {{ starts a YAML mapping)`,
      });
      return;
    }
    for (const [k, v] of entries) walkStrings(v, [...path, k], onString, issues);
  }
}

/**
 * Checks spec/run as written. Problems at a field whose value is a template reference are
 * left for after substitution; references to undefined variables are reported here.
 */
function sectionIssues(
  sections: { spec: unknown; run: unknown },
  /** Defined template variable names, or undefined when the definitions are themselves invalid. */
  defined: string[] | undefined,
): Issue[] {
  const issues: Issue[] = [];
  for (const [name, schema] of [
    ["spec", SpecSchema],
    ["run", RunSchema],
  ] as const) {
    const data = sections[name];
    const hintsFrom = issues.length;
    walkStrings(
      data,
      [name],
      (text, path) => {
        for (const ref of templateRefs(text)) {
          if (defined && !defined.includes(ref)) {
            issues.push({
              path: formatPath(path),
              message: `unknown template variable "${ref}": define it under template_variables (defined: ${defined.join(", ") || "none"})`,
            });
          }
        }
      },
      issues,
    );
    // Where an unquoted {{var}} was reported, the schema's complaint about the mapping
    // YAML made of it would only repeat the problem.
    const hinted = issues
      .slice(hintsFrom)
      .filter((i) => i.message.startsWith(QUOTE_HINT))
      .map((i) => i.path);
    const underHint = (path: string) =>
      hinted.some((h) => path === h || path.startsWith(`${h}.`) || path.startsWith(`${h}[`));
    const checked = safeParseWithIssues(schema, data, [name], (iss) => {
      const value = valueAt(data, iss.path);
      return !(typeof value === "string" && HAS_TEMPLATE_REF.test(value));
    });
    if (!checked.ok) issues.push(...checked.issues.filter((i) => !underHint(i.path)));
  }
  return issues;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A YAML key written with nothing after it (`run:`, `disk_spec:`, `labels:`) is null.
 * Where the key is optional and holds an object, a map or a list, null can only mean
 * "none", so it is dropped (the default then applies: `run` becomes `{}`). Required
 * keys and scalars keep their null and are reported as errors.
 */
function dropEmptySections(data: unknown, schema: z.ZodType | undefined): unknown {
  if (Array.isArray(data)) {
    return data.map((item, i) => dropEmptySections(item, schema && childSchema(schema, i)));
  }
  if (!isPlainObject(data)) return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const child = schema && childSchema(schema, key);
    if (value === null && child && isOptionalContainer(child)) continue;
    out[key] = dropEmptySections(value, child);
  }
  return out;
}

function isOptionalContainer(schema: z.ZodType): boolean {
  if (!(schema instanceof z.ZodOptional || schema instanceof z.ZodDefault)) return false;
  const inner = unwrapSchema(schema);
  return (
    inner instanceof z.ZodObject || inner instanceof z.ZodRecord || inner instanceof z.ZodArray
  );
}

/** `dropEmptySections` over the whole file: the dispatcher keys, then spec and run by their own schemas. */
function withoutEmptySections(raw: unknown): unknown {
  if (!isPlainObject(raw)) return raw;
  const top = dropEmptySections(raw, QueueConfigSchema) as Record<string, unknown>;
  if (isPlainObject(top.spec)) top.spec = dropEmptySections(top.spec, SpecSchema);
  if (isPlainObject(top.run)) top.run = dropEmptySections(top.run, RunSchema);
  return top;
}

/** Validates a decoded queue config; throws invalid_config listing every problem with its path. */
export function parseQueueConfig(input: unknown, queueName: string): QueueConfig {
  const raw = withoutEmptySections(input);
  const result = safeParseWithIssues(QueueConfigSchema, raw);
  if (!result.ok) {
    // Also check spec/run when they are objects, so every problem is listed at once.
    const partial = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
    const spec = partial.spec;
    const run = partial.run ?? {};
    const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    const extra = isObject(spec) && isObject(run) ? sectionIssues({ spec, run }, undefined) : [];
    throw issuesError("invalid_config", `invalid queue config "${queueName}"`, [
      ...result.issues,
      ...extra,
    ]);
  }
  const issues = sectionIssues(result.data, Object.keys(result.data.template_variables));
  if (issues.length > 0)
    throw issuesError("invalid_config", `invalid queue config "${queueName}"`, issues);
  return result.data;
}

/** Parses a queue file's text: YAML for .yaml/.yml, JSON for .json; then `parseQueueConfig`. */
export function parseQueueConfigText(
  text: string,
  fileName: string,
  queueName: string,
): QueueConfig {
  const lower = fileName.toLowerCase();
  let raw: unknown;
  if (lower.endsWith(".json")) {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new DispatchError(
        "invalid_config",
        `queue config ${fileName} is not valid JSON: ${(err as Error).message}`,
        {
          issues: [{ path: "", message: `not valid JSON: ${(err as Error).message}` }],
        },
      );
    }
  } else if (lower.endsWith(".yaml") || lower.endsWith(".yml")) {
    try {
      // logLevel "error": errors still throw, but the library's warnings (e.g. on the
      // mapping an unquoted {{var}} makes, which is reported as an issue below) do not
      // go to stderr as Node process warnings.
      raw = YAML.parse(text, { prettyErrors: true, logLevel: "error" });
    } catch (err) {
      const e = err as Error & { linePos?: Array<{ line: number; col: number }> };
      const at = e.linePos?.[0];
      const where = at ? `line ${at.line}, column ${at.col}` : "";
      const first = e.message.split("\n")[0] ?? e.message;
      throw new DispatchError(
        "invalid_config",
        `queue config ${fileName} is not valid YAML: ${e.message}`,
        {
          issues: [{ path: "", message: `not valid YAML${where ? ` at ${where}` : ""}: ${first}` }],
        },
      );
    }
  } else {
    throw new DispatchError(
      "invalid_config",
      `queue config ${fileName}: expected a .yaml, .yml or .json file`,
      {
        issues: [{ path: "", message: "expected a .yaml, .yml or .json file" }],
      },
    );
  }
  if (raw === null || raw === undefined) {
    throw issuesError("invalid_config", `invalid queue config "${queueName}"`, [
      {
        path: "",
        message: `${fileName} is empty: a queue config needs at least spec.worker_pool_specs and spec.staging_bucket`,
      },
    ]);
  }
  return parseQueueConfig(raw, queueName);
}

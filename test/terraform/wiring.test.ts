// The module's wiring, asserted from its parsed HCL (issue 10): what the code registers
// and reads on one side, what Terraform deploys on the other.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import {
  DISPATCH_MEMORY_MB,
  DISPATCH_NODE_OPTIONS,
  runtimeNodeOptions,
} from "../../bench/functions.js";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { COMPILE_CACHE_DIR } from "../../scripts/code_cache.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import { PRELOAD_NODE_OPTION } from "../../scripts/framework_preload.mjs";
import { INGEST_OPTION_NAMES } from "../../shared/ingest/options.js";
import { OPTION_NAMES } from "../../shared/options.js";
import { type Hcl, loadModule, locals, ROOT, resource, strings } from "../helpers/terraform.js";

const FN = "google_cloudfunctions2_function";
const SECRET_NAMES = ["WANDB_API_KEY", "WEBHOOK_TOKEN", "WEBHOOK_SIGNING_SECRET"];
/** Variables that point the code at emulators or a local directory: never deployed. */
const LOCAL_ONLY = ["QUEUE_CONFIG_DIR", "VERTEX_ENDPOINT", "GCS_ENDPOINT", "PUBSUB_EMULATOR_HOST"];

/** The names functions/<name>/index.ts registers, with their signature. */
function registered(name: string): { signature: string; target: string } {
  const source = readFileSync(join(ROOT, "functions", name, "index.ts"), "utf8");
  const m = /\b(cloudEvent|http)\(\s*"([^"]+)"/.exec(source);
  if (!m) throw new Error(`functions/${name}/index.ts registers no function`);
  return { signature: m[1] as string, target: m[2] as string };
}

const expr = (e: string) => `\${${e}}`;

let hcl: Hcl;
let fnLocals: Hcl;
before(async () => {
  hcl = await loadModule();
  fnLocals = locals(hcl);
});

/** Plain env keys plus secret keys (dynamic blocks included) of a function. */
function envOf(fn: Hcl): { env: string[]; secrets: string[]; inline: Hcl } {
  const sc = fn.service_config[0] as Hcl;
  let inline: Hcl = {};
  const raw = sc.environment_variables;
  if (typeof raw === "string") {
    // merge(local.dispatcher_env, local.node_env, {...}, cond ? {} : {...}): the locals plus
    // literal maps.
    for (const m of raw.matchAll(/\blocal\.(\w+)/g))
      Object.assign(inline, fnLocals[m[1] as string]);
    for (const m of raw.matchAll(/\b([A-Z][A-Z0-9_]+)\s*=/g)) inline[m[1] as string] = "(expr)";
  } else inline = raw;
  const secrets = (sc.secret_environment_variables ?? []).map((s: Hcl) => s.key);
  for (const d of sc.dynamic?.secret_environment_variables ?? [])
    for (const m of String(d.for_each).matchAll(/"([A-Z_]+)"/g)) secrets.push(m[1]);
  return { env: Object.keys(inline).sort(), secrets: secrets.sort(), inline };
}

describe("terraform/ wiring", () => {
  it("one function per folder under functions/, entry point = the registered target, nodejs22", () => {
    const deployed = Object.keys(hcl.resource[FN]).sort();
    assert.deepEqual(deployed, ["dispatch", "ingest", "poll"]);
    assert.match(fnLocals.function_names, /"dispatch", "ingest", "poll"/);
    for (const name of deployed) {
      const build = resource(hcl, FN, name).build_config[0];
      assert.equal(build.entry_point, registered(name).target, name);
      assert.equal(build.runtime, "nodejs22", name);
      assert.equal(
        build.source[0].storage_source[0].object,
        expr(`google_storage_bucket_object.bundle["${name}"].name`),
      );
    }
    const bundle = resource(hcl, "google_storage_bucket_object", "bundle");
    assert.equal(bundle.for_each, expr("local.function_names"));
    assert.equal(bundle.source, `${expr("local.bundles_dir")}/${expr("each.key")}.zip`);
    assert.match(bundle.name, /filemd5/);
  });

  it("cloudEvent functions are fed by push subscriptions (no Eventarc trigger); the http one is public", () => {
    assert.equal(registered("dispatch").signature, "cloudEvent");
    assert.equal(registered("poll").signature, "cloudEvent");
    assert.equal(registered("ingest").signature, "http");
    for (const name of ["dispatch", "poll", "ingest"])
      assert.equal(resource(hcl, FN, name).event_trigger, undefined, name);
    const invokers = resource(hcl, "google_cloud_run_service_iam_member", "invoker").for_each;
    assert.equal(invokers.ingest.member, "allUsers");
    assert.equal(invokers.dispatch.member, expr('google_service_account.this["push"].member'));
    assert.equal(invokers.poll.member, expr('google_service_account.this["push"].member'));
    assert.equal(resource(hcl, FN, "ingest").service_config[0].ingress_settings, "ALLOW_ALL");
    for (const name of ["dispatch", "poll"])
      assert.equal(
        resource(hcl, FN, name).service_config[0].ingress_settings,
        "ALLOW_INTERNAL_ONLY",
      );
  });

  for (const [name, topic] of [
    ["dispatch", "jobs"],
    ["poll", "poll"],
  ] as const) {
    it(`${name}: a push subscription on its topic, OIDC as the push account, the path names the topic`, () => {
      const sub = resource(hcl, "google_pubsub_subscription", name);
      assert.equal(sub.topic, expr(`google_pubsub_topic.this["${topic}"].id`));
      const push = sub.push_config[0];
      const uri = `google_cloudfunctions2_function.${name}.service_config[0].uri`;
      assert.equal(
        push.push_endpoint,
        `${expr(uri)}/projects/${expr("var.project_id")}/topics/${expr(`google_pubsub_topic.this["${topic}"].name`)}`,
      );
      assert.equal(push.oidc_token[0].audience, expr(uri));
      assert.equal(
        push.oidc_token[0].service_account_email,
        expr('google_service_account.this["push"].email'),
      );
      assert.equal(sub.ack_deadline_seconds, expr(`var.${name}.timeout_seconds`));
      assert.ok(sub.retry_policy?.[0], "a retry policy");
    });
  }

  it("dispatch retries with backoff and dead-letters after 5 attempts by default; the service agent may forward", () => {
    const sub = resource(hcl, "google_pubsub_subscription", "dispatch");
    const dl = sub.dead_letter_policy[0];
    assert.equal(dl.dead_letter_topic, expr('google_pubsub_topic.this["dead_letter"].id'));
    assert.equal(dl.max_delivery_attempts, expr("var.dispatch.max_delivery_attempts"));
    assert.equal(
      sub.retry_policy[0].minimum_backoff,
      `${expr("var.dispatch.minimum_backoff_seconds")}s`,
    );
    const type = hcl.variable.dispatch[0].type as string;
    assert.match(type, /max_delivery_attempts\s+= optional\(number, 5\)/);
    assert.match(type, /timeout_seconds\s+= optional\(number, 180\)/);
    const agent = expr("local.pubsub_agent");
    const pub = resource(hcl, "google_pubsub_topic_iam_member", "dead_letter_publisher");
    assert.deepEqual(
      [pub.topic, pub.role, pub.member],
      [expr('google_pubsub_topic.this["dead_letter"].name'), "roles/pubsub.publisher", agent],
    );
    const subr = resource(hcl, "google_pubsub_subscription_iam_member", "dead_letter_subscriber");
    assert.deepEqual(
      [subr.subscription, subr.role, subr.member],
      [expr("google_pubsub_subscription.dispatch.name"), "roles/pubsub.subscriber", agent],
    );
    assert.match(fnLocals.pubsub_agent, /gcp-sa-pubsub\.iam\.gserviceaccount\.com/);
    assert.ok(resource(hcl, "google_pubsub_subscription", "dead_letter"), "dead letters are kept");
  });

  it("the topics are launch-jobs, launch-status, launch-poll and a dead-letter topic", () => {
    assert.deepEqual(resource(hcl, "google_pubsub_topic", "this").for_each, {
      jobs: "launch-jobs",
      status: "launch-status",
      poll: "launch-poll",
      dead_letter: "launch-jobs-dead-letter",
    });
  });

  it("Cloud Scheduler publishes the tick to launch-poll on the validated schedule", () => {
    const job = resource(hcl, "google_cloud_scheduler_job", "poll");
    assert.equal(job.pubsub_target[0].topic_name, expr('google_pubsub_topic.this["poll"].id'));
    assert.equal(job.schedule, expr("var.poll.schedule"));
    assert.match(hcl.variable.poll[0].type, /schedule\s+= optional\(string, "\* \* \* \* \*"\)/);
  });

  it("buckets: regional in var.region, uniform access, public access prevention enforced; staging among them", () => {
    const b = resource(hcl, "google_storage_bucket", "this");
    assert.equal(b.for_each, expr("local.buckets"));
    assert.equal(b.location, expr("var.region"));
    assert.equal(b.uniform_bucket_level_access, true);
    assert.equal(b.public_access_prevention, "enforced");
    assert.deepEqual(Object.keys(fnLocals.buckets).sort(), [
      "config",
      "sources",
      "staging",
      "state",
    ]);
  });

  it("the dispatcher's Vertex permissions are exactly the four CustomJob ones, plus act-as on the job account alone", () => {
    const role = resource(hcl, "google_project_iam_custom_role", "custom_jobs");
    assert.deepEqual([...role.permissions].sort(), [
      "aiplatform.customJobs.cancel",
      "aiplatform.customJobs.create",
      "aiplatform.customJobs.get",
      "aiplatform.customJobs.list",
    ]);
    // Project-level grants: the custom role to dispatch and poll, job_runtime roles to jobs.
    const project = hcl.resource.google_project_iam_member as Hcl;
    assert.deepEqual(Object.keys(project).sort(), ["custom_jobs", "jobs"]);
    assert.equal(
      project.custom_jobs[0].role,
      expr("google_project_iam_custom_role.custom_jobs.id"),
    );
    assert.equal(project.jobs[0].member, expr('google_service_account.this["jobs"].member'));
    const actAs = resource(hcl, "google_service_account_iam_member", "act_as_jobs");
    assert.equal(actAs.role, "roles/iam.serviceAccountUser");
    assert.equal(actAs.service_account_id, expr('google_service_account.this["jobs"].name'));
    // No basic role and no project-wide act-as anywhere outside the variables' validations.
    const text = strings({ ...hcl, variable: undefined }).join("\n");
    assert.doesNotMatch(text, /roles\/(owner|editor|viewer)\b/);
    for (const m of project.custom_jobs.concat(project.jobs))
      assert.notEqual(m.role, "roles/iam.serviceAccountUser");
  });

  it("DEFAULT_JOB_SERVICE_ACCOUNT is the job runtime account", () => {
    assert.equal(
      fnLocals.dispatcher_env.DEFAULT_JOB_SERVICE_ACCOUNT,
      expr('google_service_account.this["jobs"].email'),
    );
  });

  it("dispatch and poll get every variable the code reads (shared/options.ts) but the local-only ones, and no other", () => {
    const deployable = OPTION_NAMES.filter((n) => !LOCAL_ONLY.includes(n)).sort();
    for (const name of ["dispatch", "poll"]) {
      const { env, secrets } = envOf(resource(hcl, FN, name));
      // NODE_OPTIONS (the preload, and dispatch's V8 heap flags) and NODE_COMPILE_CACHE are
      // Node's own, not ones shared/options.ts reads.
      const extra = [
        ...(name === "poll" ? ["WANDB_QUEUES"] : []),
        "NODE_OPTIONS",
        "NODE_COMPILE_CACHE",
      ];
      assert.deepEqual([...env, ...secrets].sort(), [...deployable, ...extra].sort(), name);
    }
  });

  it("dispatch runs with the NODE_OPTIONS the bench measures (bench/functions.ts)", () => {
    const env = resource(hcl, FN, "dispatch").service_config[0].environment_variables;
    // The preload (local.node_env), then dispatch.node_options.
    assert.match(
      String(env),
      /NODE_OPTIONS = trimspace\("\$\{local\.node_env\.NODE_OPTIONS\} \$\{var\.dispatch\.node_options\}"\)/,
    );
    assert.equal(runtimeNodeOptions("dispatch"), `${PRELOAD_NODE_OPTION} ${DISPATCH_NODE_OPTIONS}`);
    const type = String(hcl.variable.dispatch[0].type);
    const m = /node_options\s*=\s*optional\(string,\s*"([^"]*)"\)/.exec(type);
    assert.ok(m, "terraform/variables.tf: dispatch.node_options has a default");
    assert.equal(m[1], DISPATCH_NODE_OPTIONS);
  });

  it("dispatch's memory is the one the bench confines its cold starts to (bench/functions.ts)", () => {
    const env = resource(hcl, FN, "dispatch").service_config[0];
    assert.match(String(env.available_memory), /var\.dispatch\.memory/);
    const type = String(hcl.variable.dispatch[0].type);
    const m = /memory\s*=\s*optional\(string,\s*"(\d+)Mi"\)/.exec(type);
    assert.ok(m, "terraform/variables.tf: dispatch.memory has a default in Mi");
    assert.equal(Number(m[1]), DISPATCH_MEMORY_MB);
  });

  it("each build makes the code cache under the NODE_OPTIONS its function runs with", () => {
    // V8 rejects a code cache made under other V8 flags (scripts/code_cache.mjs).
    const built = (name: string) =>
      resource(hcl, FN, name).build_config[0].environment_variables as Hcl;
    assert.deepEqual(built("dispatch"), {
      CODE_CACHE_NODE_OPTIONS: expr("var.dispatch.node_options"),
    });
    for (const name of ["poll", "ingest"]) {
      assert.deepEqual(built(name), { CODE_CACHE_NODE_OPTIONS: "" }, name);
      const env = resource(hcl, FN, name).service_config[0].environment_variables;
      // Theirs are node_env's alone: the preload, which is no V8 flag.
      assert.doesNotMatch(JSON.stringify(env), /NODE_OPTIONS/, `${name} adds no NODE_OPTIONS`);
      assert.equal(runtimeNodeOptions(name), PRELOAD_NODE_OPTION);
    }
  });

  it("ingest gets every variable shared/ingest/options.ts reads but the emulator host", () => {
    const { env, secrets } = envOf(resource(hcl, FN, "ingest"));
    const deployable = INGEST_OPTION_NAMES.filter((n) => !LOCAL_ONLY.includes(n));
    const node = ["NODE_OPTIONS", "NODE_COMPILE_CACHE"];
    assert.deepEqual([...env, ...secrets].sort(), [...deployable, ...node].sort());
  });

  it("each function requires the framework preload and reads Node's compile cache where its gcp-build fills it", () => {
    // Both relative to the package (scripts/framework_preload.mjs, scripts/code_cache.mjs).
    assert.deepEqual(fnLocals.node_env, {
      NODE_OPTIONS: expr(`var.framework_preload ? "${PRELOAD_NODE_OPTION}" : ""`),
      NODE_COMPILE_CACHE: COMPILE_CACHE_DIR,
    });
    assert.equal(hcl.variable.framework_preload[0].default, true);
    for (const name of ["dispatch", "poll", "ingest"]) {
      const env = resource(hcl, FN, name).service_config[0].environment_variables;
      assert.match(String(env), /merge\(.*local\.node_env/s, name);
    }
  });

  it("secrets are mounted from Secret Manager, never inlined, and their values are not in Terraform", () => {
    const mounted = Object.fromEntries(
      ["dispatch", "poll", "ingest"].map((n) => [n, envOf(resource(hcl, FN, n))]),
    );
    assert.deepEqual(mounted.dispatch?.secrets, ["WANDB_API_KEY"]);
    assert.deepEqual(mounted.poll?.secrets, ["WANDB_API_KEY"]);
    assert.deepEqual(mounted.ingest?.secrets, ["WEBHOOK_SIGNING_SECRET", "WEBHOOK_TOKEN"]);
    for (const [name, m] of Object.entries(mounted))
      for (const secret of SECRET_NAMES)
        assert.ok(!m.env.includes(secret), `${name} inlines ${secret}`);
    assert.equal(hcl.resource.google_secret_manager_secret_version, undefined);
    for (const v of Object.keys(hcl.variable))
      assert.doesNotMatch(
        v,
        /token|secret|api_key|password/i,
        `variable ${v} would put a secret in tfvars`,
      );
    for (const s of resource(hcl, FN, "dispatch").service_config[0].secret_environment_variables)
      assert.equal(s.secret, expr('google_secret_manager_secret.this["wandb_api_key"].secret_id'));
  });

  it("every variable is used and documented; every output is documented", () => {
    const body = strings({ ...hcl, variable: undefined }).join("\n");
    for (const [name, [v]] of Object.entries(hcl.variable as Record<string, Hcl[]>)) {
      assert.match(body, new RegExp(`\\bvar\\.${name}\\b`), `variable ${name} is never used`);
      assert.ok((v?.description ?? "").length > 20, `variable ${name} needs a description`);
    }
    for (const [name, [o]] of Object.entries(hcl.output as Record<string, Hcl[]>))
      assert.ok((o?.description ?? "").length > 20, `output ${name} needs a description`);
  });

  it("the region validation lists exactly the Vertex custom-training regions of shared/data", () => {
    const data = JSON.parse(
      readFileSync(join(ROOT, "shared", "data", "vertex-compute.json"), "utf8"),
    ) as { regions: { custom_training: string[] } };
    const condition = hcl.variable.region[0].validation[0].condition as string;
    const listed = [...condition.matchAll(/"([a-z0-9-]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, [...data.regions.custom_training].sort());
  });

  it("the provider constraint admits google 6.50 (the schema the module is checked against)", () => {
    const constraint = hcl.terraform[0].required_providers[0].google.version as string;
    assert.ok(admits(constraint, [6, 50, 0]), constraint);
    assert.ok(!admits(constraint, [7, 0, 0]), "a new major is not accepted blindly");
  });

  it("outputs: the webhook URL, topics, buckets, service accounts and the submit command", () => {
    const out = hcl.output as Record<string, Hcl[]>;
    for (const name of ["webhook_url", "topics", "buckets", "service_accounts", "submit_command"])
      assert.ok(out[name], name);
    assert.equal(out.webhook_url?.[0]?.value, expr(`${FN}.ingest.service_config[0].uri`));
    assert.match(out.submit_command?.[0]?.value, /^gcloud pubsub topics publish /);
  });
});

/** Whether a Terraform version constraint (>=, >, <=, <, =, comma-joined) admits a version. */
function admits(constraint: string, version: number[]): boolean {
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  return constraint.split(",").every((part) => {
    const m = /^\s*(>=|<=|>|<|=)?\s*([\d.]+)\s*$/.exec(part);
    if (!m) throw new Error(`cannot read the constraint "${part}"`);
    const c = cmp(version, (m[2] as string).split(".").map(Number));
    return { ">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "=": c === 0 }[m[1] ?? "="];
  });
}

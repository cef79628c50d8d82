// Every command's spec (flags, usage, examples) and where its code lives. Loading this
// file loads no command: `--help` stays fast.
import type { CommandSpec, FlagSpec, FlagValues } from "./args.js";
import type { Ctx } from "./io.js";

export type Run = (values: FlagValues, positionals: string[], ctx: Ctx) => Promise<number>;

const json: FlagSpec = { type: "boolean", help: "print the result as JSON on stdout" };
const queue: FlagSpec = { type: "string", value: "NAME", help: "the queue's name" };
const project: FlagSpec = {
  type: "string",
  value: "P",
  help: "the GCP project the dispatcher runs in (default $GOOGLE_CLOUD_PROJECT)",
};
const region: FlagSpec = {
  type: "string",
  value: "R",
  help: "the default Vertex region (default $VERTEX_REGION, else us-central1)",
};
const timeout: FlagSpec = {
  type: "string",
  value: "SECONDS",
  help: "give up waiting after this long (exit 4); 0 waits for ever",
};

export const SPECS = {
  render: {
    name: "render",
    summary: "print the Vertex AI request a launch would create, and every warning; no network",
    usage: "render --file FILE --message FILE [--project P --region R --service-account SA]",
    flags: {
      file: { type: "string", value: "FILE", help: "the queue config file (.yaml, .yml, .json)" },
      message: { type: "string", value: "FILE", help: "the launch message (JSON)" },
      project,
      region,
      "service-account": {
        type: "string",
        value: "SA",
        help: "the dispatcher's default job service account (default $DEFAULT_JOB_SERVICE_ACCOUNT)",
      },
    },
    examples: [
      "vertex-dispatch render --file queues/gpu.yaml --message launch.json --project acme-ml",
    ],
    notes: ["The request goes to stdout as proto3 JSON; warnings go to stderr."],
  },
  validate: {
    name: "validate",
    summary: "check a queue config: schema, resolution, images, and the preflight against GCS",
    usage:
      "validate (--file FILE | --queue NAME) [--project P --region R] [--no-preflight] [--json]",
    flags: {
      file: { type: "string", value: "FILE", help: "a queue config file" },
      queue: { ...queue, help: "a deployed queue: reads its config from the config bucket" },
      project,
      region,
      "no-preflight": { type: "boolean", help: "skip the bucket checks (no network)" },
      json,
    },
    examples: [
      "vertex-dispatch validate --file queues/gpu.yaml",
      "vertex-dispatch validate --queue gpu",
    ],
  },
  queues: {
    name: "queues",
    summary: "the queue configs in the config bucket: list, show one, push one",
    usage: "queues list | queues show NAME | queues push FILE [--name NAME] [--no-preflight]",
    positionals: 2,
    flags: {
      name: { type: "string", value: "NAME", help: "push: the queue's name (default: the file's)" },
      "no-preflight": { type: "boolean", help: "push: skip the bucket checks" },
      project,
      region,
      json,
    },
    examples: [
      "vertex-dispatch queues push queues/gpu.yaml",
      "vertex-dispatch queues list",
      "vertex-dispatch queues show gpu",
    ],
    notes: [
      "Configs live at gs://$CONFIG_BUCKET/queues/NAME.yaml (or in $QUEUE_CONFIG_DIR when set).",
      "push validates first, preflight included, and refuses a config that would reject every launch.",
    ],
  },
  submit: {
    name: "submit",
    summary:
      "publish a launch (from flags or a message file); --wait or --follow to see what happened",
    usage:
      "submit --queue NAME (--message FILE | --entity E --wandb-project P --image URI [--entry-point CMD] [--arg A]... [--config k=v]... [--var name=value]... [--run-id R] [--name N] [--priority 0-3]) [--wait | --follow] [--json]",
    flags: {
      queue,
      message: {
        type: "string",
        value: "FILE",
        help: "a launch message (JSON); flags win over it",
      },
      entity: { type: "string", value: "E", help: "the W&B entity" },
      "wandb-project": { type: "string", value: "P", help: "the W&B project" },
      image: {
        type: "string",
        value: "URI",
        help: "the container image (fills the queue's image_uri macro)",
      },
      "entry-point": {
        type: "string",
        value: "CMD",
        help: 'the command, split on spaces, or a JSON array: \'["python","train.py"]\'',
      },
      arg: { type: "string", multiple: true, value: "A", help: "an argument of the command" },
      config: {
        type: "string",
        multiple: true,
        value: "k=v",
        help: "a run_config value; JSON values allowed (lr=0.01, layers=[64,64])",
      },
      var: {
        type: "string",
        multiple: true,
        value: "name=value",
        help: "a template variable of the queue",
      },
      env: { type: "string", multiple: true, value: "NAME=VALUE", help: "an environment variable" },
      "run-id": { type: "string", value: "R", help: "the W&B run id (default: derived)" },
      name: { type: "string", value: "N", help: "the run's name" },
      job: { type: "string", value: "E/P/NAME:ALIAS", help: "a W&B job artifact" },
      priority: { type: "string", value: "0-3", help: "backlog priority, 0 highest (default 2)" },
      "idempotency-key": {
        type: "string",
        value: "K",
        help: "publishing the same key twice makes one launch",
      },
      wait: { type: "boolean", help: "wait for the outcome: submitted, queued or rejected" },
      follow: { type: "boolean", help: "print every state change until a final state" },
      timeout,
      project,
      region,
      json,
    },
    examples: [
      "vertex-dispatch submit --queue demo --entity acme --wandb-project vision --image us-central1-docker.pkg.dev/acme-ml/train/resnet:1 --config lr=0.01 --follow",
      "vertex-dispatch submit --queue gpu --message launch.json --wait",
    ],
    notes: [
      "What the dispatcher would reject at once (schema, size, an unknown queue, an invalid",
      "config, a run_id already taken) is refused here, before publishing, with its message.",
      "--wait exits 0 on submitted or queued, 1 on rejected; --follow exits 0 on finished.",
      "--timeout defaults to 300 s for --wait and to no limit for --follow.",
    ],
  },
  status: {
    name: "status",
    summary: "launches and their states, from the launch records",
    usage: "status [--queue NAME] [--run-id R] [--json]",
    flags: { queue, "run-id": { type: "string", value: "R", help: "one launch" }, project, json },
    examples: [
      "vertex-dispatch status --queue gpu",
      "vertex-dispatch status --queue gpu --run-id r1",
    ],
  },
  events: {
    name: "events",
    summary: "tail launch-status through a temporary subscription (deleted on exit)",
    usage: "events [--queue NAME] [--run-id R] [--count N] [--timeout SECONDS] [--json]",
    flags: {
      queue,
      "run-id": { type: "string", value: "R", help: "only this run" },
      count: { type: "string", value: "N", help: "exit after N events" },
      timeout: { ...timeout, help: "exit after this long (exit 0); default: until Ctrl-C" },
      project,
      json: { type: "boolean", help: "print each event as one JSON line" },
    },
    examples: ["vertex-dispatch events --queue gpu"],
    notes: ["Needs pubsub.subscriptions.create and delete on the project (roles/pubsub.editor)."],
  },
  cancel: {
    name: "cancel",
    summary: "cancel a launch (its Vertex job, or its place in the backlog)",
    usage: "cancel --queue NAME --run-id R [--wait] [--timeout SECONDS] [--json]",
    flags: {
      queue,
      "run-id": { type: "string", value: "R", help: "the launch's run id" },
      wait: { type: "boolean", help: "print each state change until the launch is final" },
      timeout,
      project,
      json,
    },
    examples: ["vertex-dispatch cancel --queue gpu --run-id r1 --wait"],
  },
  poll: {
    name: "poll",
    summary: "run one poll tick now, with the dispatcher's environment; prints its summary",
    usage: "poll",
    flags: {},
    examples: ["vertex-dispatch poll"],
  },
  emulators: {
    name: "emulators",
    summary: "run the Pub/Sub, GCS and Vertex emulators alone, and print their environment",
    usage: "emulators [--quiet]",
    flags: { quiet: { type: "boolean", help: "no line per request" } },
    examples: ["vertex-dispatch emulators"],
  },
  start: {
    name: "start",
    summary: "the whole system locally on emulators, with a demo launch (what npm start runs)",
    usage: "start [--once] [--quiet]",
    flags: {
      once: { type: "boolean", help: "exit once the demo launch is final (0: finished)" },
      quiet: { type: "boolean", help: "hide the functions' log lines" },
    },
    examples: ["npm start", "npm start -- --once"],
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;

export function specOf(name: string): CommandSpec | undefined {
  return Object.hasOwn(SPECS, name) ? SPECS[name as CommandName] : undefined;
}

export const LOADERS: Record<CommandName, () => Promise<Run>> = {
  render: async () => (await import("./render.js")).render,
  validate: async () => (await import("./validate.js")).validate,
  queues: async () => (await import("./queues.js")).queues,
  submit: async () => (await import("./submit.js")).submit,
  status: async () => (await import("./status.js")).status,
  events: async () => (await import("./events.js")).events,
  cancel: async () => (await import("./cancel.js")).cancel,
  poll: async () => (await import("./poll.js")).poll,
  emulators: async () => (await import("./emulators.js")).emulators,
  start: async () => (await import("./start.js")).start,
};

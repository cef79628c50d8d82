// `vertex-dispatch` entry point: picks the subcommand and hands it argv and env.
// Each subcommand lives in its own file and returns the process exit code.
import { DispatchError } from "../shared/errors.js";

export type Env = Record<string, string | undefined>;
type Command = (argv: string[], env: Env) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  render: {
    summary:
      "render --queue FILE --message FILE [--project P --region R]: print the Vertex request",
    load: async () => (await import("./render.js")).render,
  },
  validate: {
    summary:
      "validate --queue FILE [--no-preflight]: static checks plus preflight against Cloud Storage",
    load: async () => (await import("./validate.js")).validate,
  },
  submit: {
    summary: "submit --queue Q --message FILE: publish a launch message, print its id",
    load: async () => (await import("./submit.js")).submit,
  },
  status: {
    summary: "status [--queue Q] [--run-id R] [--json]: launches and their states",
    load: async () => (await import("./status.js")).status,
  },
  cancel: {
    summary: "cancel --queue Q --run-id R: cancel a launch",
    load: async () => (await import("./cancel.js")).cancel,
  },
  poll: {
    summary: "poll: run one poll tick now (the dispatcher's environment), print its summary",
    load: async () => (await import("./poll.js")).poll,
  },
  emulators: {
    summary: "emulators: run the Pub/Sub, GCS and Vertex emulators and print their environment",
    load: async () => (await import("./emulators.js")).emulators,
  },
  start: {
    summary: "start [--once]: the whole system locally on emulators, with a demo launch",
    load: async () => (await import("./start.js")).start,
  },
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  vertex-dispatch ${c.summary}`);
  return `usage:\n${lines.join("\n")}\n`;
}

export async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`vertex-dispatch: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest, env);
  } catch (err) {
    if (err instanceof DispatchError) {
      process.stderr.write(`vertex-dispatch ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

// How to fix an error, for the people who read it (the CLI prints these under an error;
// the dispatcher may add them to its logs). Pure: the error's kind and text in, lines out.
//
// Invariant: a hint is added only when the error's own text proves the cause (a pattern
// of Google's or our own wording); a guess is worse than no hint.

export interface HintContext {
  /** The CLI talks to the local emulators (npm start), where other fixes apply. */
  local: boolean;
}

interface Rule {
  match: RegExp;
  hints: (m: RegExpExecArray, ctx: HintContext) => string[];
}

const RULES: Rule[] = [
  {
    match: /queue "([^"]+)" has no config/,
    hints: (m) => [
      `add the queue's config (validated first): vertex-dispatch queues push FILE --name ${m[1]}`,
    ],
  },
  {
    // Vertex AI's act-as denial (INVALID_ARGUMENT on real Vertex, python-aiplatform#1073).
    match:
      /permission to act as service[_ ]account:?\s*([^\s.()]+(?:\.[^\s.()]+)*@[^\s()]+?)\.?(?:\s|$)/i,
    hints: (m, ctx) => {
      const account = m[1] ?? "SERVICE_ACCOUNT";
      const lines = [
        `grant the dispatcher's service account roles/iam.serviceAccountUser on ${account}: gcloud iam service-accounts add-iam-policy-binding ${account} --member=serviceAccount:DISPATCHER_SA --role=roles/iam.serviceAccountUser (or set run.service_account to an account it may act as)`,
      ];
      if (ctx.local) {
        lines.push(
          `on the local stack the Vertex emulator lets the dispatcher act as the demo account and those in LOCAL_ACT_AS: restart it with LOCAL_ACT_AS=${account} npm start`,
        );
      }
      return lines;
    },
  },
  {
    match: /Resource not found \(resource=([^)]+)\)|topic.*not found|NOT_FOUND.*topic/i,
    hints: () => [
      "the topic does not exist here: deploy the dispatcher (terraform/) in this project, or set LAUNCH_TOPIC, or export the local stack's variables (npm start prints them)",
    ],
  },
  {
    match:
      /PERMISSION_DENIED.*pubsub|pubsub.*PERMISSION_DENIED|User not authorized to perform this action/i,
    hints: () => [
      "your account may not use this Pub/Sub resource: ask for roles/pubsub.publisher on launch-jobs (and roles/pubsub.editor to create the temporary subscriptions of --wait, --follow and events)",
    ],
  },
  {
    match: /ECONNREFUSED\s*([\d.:[\]a-f]+)?/i,
    hints: (m, ctx) => [
      ctx.local
        ? `nothing listens on ${m[1] ?? "the emulator's port"}: is the local stack running (npm start)? Export the variables it prints, in this shell`
        : `the connection to ${m[1] ?? "the service"} was refused: check the endpoint variables (unset PUBSUB_EMULATOR_HOST / GCS_ENDPOINT to use Google Cloud)`,
    ],
  },
  {
    match: /Could not load the default credentials|invalid_grant|Reauthentication/i,
    hints: () => ["log in for the Google client libraries: gcloud auth application-default login"],
  },
];

/** Lines that say how to fix `error`, or none when its text does not show the cause. */
export function howToFix(error: { kind: string; message: string }, ctx: HintContext): string[] {
  const out: string[] = [];
  for (const rule of RULES) {
    const m = rule.match.exec(error.message);
    if (m) out.push(...rule.hints(m, ctx));
  }
  return out;
}

// `vertex-dispatch start` (what `npm start` runs). The local stack is not built yet
// (issue: the dispatch function and the local stack); until it is, this says so.
import type { Env } from "./main.js";

export async function start(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write(
    "vertex-dispatch start: the local stack is not built yet.\n" +
      "What works today: `npx vertex-dispatch render --queue FILE --message FILE` (see README).\n",
  );
  return 1;
}

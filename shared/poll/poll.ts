// The poll function's core, as the CLI and functions/poll call it: one tick (./tick.ts).
export type { PollDeps, TickSummary } from "./deps.js";
export { runTick } from "./tick.js";

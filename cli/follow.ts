// Prints a launch's state changes as they arrive on a watch, until one says it is done,
// the time is up or the user presses Ctrl-C. On a terminal a live line on stderr shows
// the current state and the time spent waiting; elsewhere only plain lines are printed.
import type { StatusEvent } from "../shared/schemas/status_event.js";
import type { Ctx } from "./io.js";
import { elapsed, eventLines } from "./present.js";
import type { Watch } from "./watch.js";

export interface FollowOptions {
  watch: Watch;
  ctx: Ctx;
  json: boolean;
  /** True for the event that ends the wait. */
  done: (e: StatusEvent) => boolean;
  /** 0: no limit. */
  timeoutMs: number;
  /** The state shown on the live line before the first event. */
  waitingFor: string;
  /** The backlog place of a queued launch, when it can be known. */
  placeOf?: (e: StatusEvent) => Promise<number | null>;
}

export interface Followed {
  last: StatusEvent | null;
  /** Every event seen, in order. */
  events: StatusEvent[];
  end: "done" | "timeout" | "interrupted";
}

export async function follow(o: FollowOptions): Promise<Followed> {
  const { ctx } = o;
  const started = ctx.io.now();
  const deadline = o.timeoutMs > 0 ? started + o.timeoutMs : 0;
  let current = o.waitingFor;
  let last: StatusEvent | null = null;
  const events: StatusEvent[] = [];
  const shownJobs = new Set<string>();
  const warned = new Set<string>();
  const live = ctx.err.tty && !o.json;
  const clear = () => {
    if (live) ctx.err.write("\r\x1b[2K");
  };
  const draw = () => {
    if (!live) return;
    const line = `${ctx.err.style.dim("…")} ${current} ${ctx.err.style.dim(`${elapsed(ctx.io.now() - started)} (Ctrl-C to stop waiting)`)}`;
    ctx.err.write(`\r\x1b[2K${line}`);
  };
  const ticker = live ? setInterval(draw, 1000) : undefined;
  draw();
  try {
    for (;;) {
      const remaining = deadline ? deadline - ctx.io.now() : 0;
      if (deadline && remaining <= 0) return { last, events, end: "timeout" };
      const next = await o.watch.next(deadline ? remaining : 0);
      if (next === "timeout" || next === "interrupted") return { last, events, end: next };
      last = next;
      events.push(next);
      current = next.state;
      clear();
      print(next, o, shownJobs, warned, await (o.placeOf?.(next) ?? null));
      draw();
      if (o.done(next)) return { last, events, end: "done" };
    }
  } finally {
    clearInterval(ticker);
    clear();
  }
}

function print(
  e: StatusEvent,
  o: FollowOptions,
  shownJobs: Set<string>,
  warned: Set<string>,
  place: number | null,
): void {
  const { ctx } = o;
  if (o.json) return; // the caller prints one JSON result at the end
  const showJob = e.job_name !== null && !shownJobs.has(e.job_name);
  if (e.job_name) shownJobs.add(e.job_name);
  const local = Boolean(ctx.env.PUBSUB_EMULATOR_HOST || ctx.env.VERTEX_ENDPOINT);
  for (const l of eventLines(e, { style: ctx.out.style, local, showJob, place })) ctx.out.line(l);
  for (const w of e.warnings) {
    if (warned.has(w)) continue;
    warned.add(w);
    ctx.err.line(`${ctx.err.style.yellow("warning:")} ${w}`);
  }
}

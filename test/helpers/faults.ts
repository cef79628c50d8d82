// Faults at the core's seams, for lifecycle tests: the real clients (over the official
// SDKs, against the emulators) wrapped so that one chosen call is refused (it does
// nothing and throws) or loses its answer (it happens, then throws), as GCS does.
import { DispatchError } from "../../shared/errors.js";
import type { PollDeps } from "../../shared/poll/poll.js";

export type Seam =
  | "active.create"
  | "active.put"
  | "store.create"
  | "store.update"
  | "slots.release"
  | "publish";
export type Failure = "refused" | "lost";

/** The Nth call (1 = the next) of `seam` through the returned deps fails as `how`. */
export function failingAt(deps: PollDeps, seam: Seam, how: Failure, nth = 1): PollDeps {
  let calls = 0;
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (++calls !== nth) return call(...args);
      if (how === "lost") await call(...args);
      throw new DispatchError(
        "storage_unavailable",
        `${seam} ${how === "lost" ? "lost its answer" : "refused"} (test fault)`,
      );
    };
  const [group, method] = seam.split(".") as [keyof PollDeps, string | undefined];
  if (!method) return { ...deps, publish: wrap(deps.publish) };
  const target = deps[group] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = target[method];
  if (!original) throw new Error(`no seam ${seam}`);
  return { ...deps, [group]: { ...target, [method]: wrap(original.bind(target)) } };
}

/** After each publish, the next call of `seam` fails once as `how` (a fault right after an event went out). */
export function failingAfterPublish(deps: PollDeps, seam: Seam, how: Failure): PollDeps {
  let armed: PollDeps | null = null;
  const inner: PollDeps = {
    ...deps,
    publish: async (event) => {
      await deps.publish(event);
      armed = failingAt(deps, seam, how);
    },
  };
  const [group, method] = seam.split(".") as [keyof PollDeps, string];
  const target = inner[group] as unknown as Record<
    string,
    (...args: unknown[]) => Promise<unknown>
  >;
  const passThrough = async (...args: unknown[]) => {
    const now = armed;
    armed = null;
    const through = (now ?? deps)[group] as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    return (through[method] as (...a: unknown[]) => Promise<unknown>)(...args);
  };
  return { ...inner, [group]: { ...target, [method]: passThrough } };
}

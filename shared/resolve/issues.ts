// The one issue collector of a resolution. Every problem found on the way is added here
// with who caused it: the queue config, or the launch message (its own fields, or a value
// its resource_args put into spec/run). The error thrown at the end is invalid_config when
// the queue caused any problem, else invalid_message; warnings are kept beside.
import { type DispatchError, type Issue, issuesError } from "../errors.js";
import { type TemplateContext, templateNote } from "./template.js";

/** Appended to a problem on a value the message's resource_args set. */
export const SET_BY_MESSAGE = " (set by the message's resource_args)";

interface Found extends Issue {
  fromMessage: boolean;
}

export class IssueCollector {
  private readonly found: Found[] = [];
  readonly warnings: string[] = [];
  /** Config paths (`spec.x.y`) the message's resource_args set or removed. */
  private overridden: readonly string[] = [];
  private templates: TemplateContext | undefined;

  constructor(private readonly queueName: string) {}

  /** Problems the queue config caused. */
  fromQueue(issues: readonly Issue[]): void {
    for (const i of issues) this.found.push({ ...i, fromMessage: false });
  }

  /** Problems the launch message caused. */
  fromMessage(issues: readonly Issue[]): void {
    for (const i of issues) this.found.push({ ...i, fromMessage: true });
  }

  /** Problems at `message.` paths are the message's, any other the queue's. */
  byPath(issues: readonly Issue[]): void {
    for (const i of issues) this.found.push({ ...i, fromMessage: i.path.startsWith("message.") });
  }

  /**
   * Problems on the resolved spec/run: the message's when at (or under) a path its
   * resource_args set, or when one of the `related` paths that decide the same check was;
   * a value a template variable filled names the variable.
   */
  fromResolved(issues: readonly Issue[], related: readonly string[] = []): void {
    for (const issue of issues) {
      const byMessage = [issue.path, ...related].some((p) => this.overrode(p));
      const note = `${this.templates ? templateNote(this.templates, issue.path) : ""}${byMessage ? SET_BY_MESSAGE : ""}`;
      this.found.push({ ...issue, message: `${issue.message}${note}`, fromMessage: byMessage });
    }
  }

  warn(...warnings: readonly string[]): void {
    this.warnings.push(...warnings);
  }

  noteOverrides(paths: readonly string[]): void {
    this.overridden = paths;
  }

  noteTemplates(context: TemplateContext): void {
    this.templates = context;
  }

  /** True when the message's resource_args set `path` or a field above it. */
  overrode(path: string): boolean {
    return this.overridden.some(
      (p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`),
    );
  }

  /** True when the message's resource_args set a field under `prefix` (e.g. "spec.labels."). */
  overrodeUnder(prefix: string): boolean {
    return this.overridden.some((p) => p.startsWith(prefix));
  }

  get empty(): boolean {
    return this.found.length === 0;
  }

  /** Throws every problem at once (each path+message once) if there is any. */
  throwIfAny(): void {
    if (this.found.length > 0) throw this.error();
  }

  /** The error for every problem so far (each path+message once). */
  error(): DispatchError {
    const seen = new Set<string>();
    const issues: Issue[] = [];
    for (const f of this.found) {
      const key = `${f.path}\u0000${f.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push({ path: f.path, message: f.message });
    }
    const byConfig = this.found.some((f) => !f.fromMessage);
    return issuesError(
      byConfig ? "invalid_config" : "invalid_message",
      `cannot resolve the launch for queue "${this.queueName}"`,
      issues,
    );
  }
}

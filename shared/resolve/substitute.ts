// Steps "template variables" and "macros": fill every string of spec/run, first with the
// queue's template variables (the message's values, else the defaults), then with the W&B
// macros (so a variable's value may hold a macro). Paths left unresolved are remembered so
// that validation does not report them again.
import type { Issue } from "../errors.js";
import { RunSchema, SpecSchema } from "../schemas/queue_config.js";
import type { LaunchIds } from "./ids.js";
import type { IssueCollector } from "./issues.js";
import { type MacroName, type MacroValue, substituteMacros } from "./macros.js";
import type { Plain, Sections } from "./overrides.js";
import { substituteTemplates, type TemplateContext, templateValues } from "./template.js";
import type { ResolveInput } from "./types.js";

export function applyTemplateVariables(
  input: ResolveInput,
  sections: Sections,
  issues: IssueCollector,
): TemplateContext {
  const tv = templateValues(input.config.template_variables, input.message.template_variables, [
    "message",
    "template_variables",
  ]);
  issues.noteTemplates(tv.context);
  issues.fromMessage(tv.issues);
  const found: Issue[] = [];
  sections.spec = substituteTemplates(
    sections.spec,
    SpecSchema,
    ["spec"],
    tv.context,
    found,
  ) as Plain;
  sections.run = substituteTemplates(sections.run, RunSchema, ["run"], tv.context, found) as Plain;
  issues.byPath(found);
  return tv.context;
}

/** The value of every macro for this launch (SPEC §3). */
function macroValues(input: ResolveInput, ids: LaunchIds): Record<MacroName, MacroValue> {
  const { message } = input;
  return {
    image_uri: message.image_uri ?? {
      missing: "the launch message has no image_uri: add it",
      required: true,
    },
    project_name: ids.wandbProject,
    entity_name: ids.entity,
    run_id: ids.runId,
    run_name: message.name ?? ids.runId,
    author: message.author ?? { missing: "the launch message has no author", required: false },
    queue_name: input.queueName,
  };
}

/** Macros in every string; a missing required value is the message's problem. */
export function applyMacros(
  input: ResolveInput,
  ids: LaunchIds,
  sections: Sections,
  unresolved: Set<string>,
  issues: IssueCollector,
): void {
  const values = macroValues(input, ids);
  const found: Issue[] = [];
  const w = issues.warnings;
  sections.spec = substituteMacros(sections.spec, ["spec"], values, found, w, unresolved) as Plain;
  sections.run = substituteMacros(sections.run, ["run"], values, found, w, unresolved) as Plain;
  issues.fromMessage(found);
}

// "No function over ~60 lines" (the project's code rules), checked: every function,
// method and arrow function in the product's sources and in local/ (the emulators and the
// stack), measured from its first line to its last with the TypeScript compiler's own
// parser. A factory that returns an object of methods counts as one function, so its
// methods have to stay small too.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const LIMIT = 60;
const ROOTS = ["shared", "functions", "local", "cli"];
const repo = join(import.meta.dirname, "../..");

function sources(root: string): string[] {
  return (readdirSync(join(repo, root), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join(repo, root, f));
}

function nameOf(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText();
  return "<anonymous>";
}

/** "path:line name (N lines)" for every function longer than the limit. */
function longFunctions(file: string): string[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, "utf8"),
    ts.ScriptTarget.Latest,
    true,
  );
  const out: string[] = [];
  const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const lines = line(node.getEnd()) - line(node.getStart()) + 1;
      if (lines > LIMIT)
        out.push(
          `${relative(repo, file)}:${line(node.getStart())} ${nameOf(node)} (${lines} lines)`,
        );
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("code shape", () => {
  for (const root of ROOTS) {
    it(`no function in ${root}/ is over ${LIMIT} lines`, () => {
      const long = sources(root).flatMap(longFunctions);
      assert.deepEqual(long, [], `split these into named steps:\n${long.join("\n")}`);
    });
  }

  it("the measure sees a long function (so the checks above can fail)", () => {
    const body = Array.from({ length: LIMIT + 5 }, (_, i) => `  const v${i} = ${i};`).join("\n");
    const file = join(repo, "package.json"); // any path: only the text below is parsed
    const source = ts.createSourceFile(
      file,
      `function big() {\n${body}\n}\n`,
      ts.ScriptTarget.Latest,
      true,
    );
    const fn = source.statements[0] as ts.FunctionDeclaration;
    const lines =
      source.getLineAndCharacterOfPosition(fn.getEnd()).line -
      source.getLineAndCharacterOfPosition(fn.getStart()).line +
      1;
    assert.equal(lines, LIMIT + 7);
  });
});

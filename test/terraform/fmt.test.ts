// `terraform fmt -check -recursive` over terraform/ (where terraform is installed), and
// proof that the check fails on a badly formatted file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { MODULE_DIR } from "../helpers/terraform.js";

function fmtCheck(dir: string) {
  return spawnSync("terraform", ["fmt", "-check", "-recursive", "-diff", dir], {
    encoding: "utf8",
    env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" },
  });
}

function terraformMissing(t: TestContext): boolean {
  const probe = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (probe.error === undefined && probe.status === 0) return false;
  const why = "terraform is not installed (https://developer.hashicorp.com/terraform/install)";
  console.warn(`\n!!! SKIPPED "${t.name}": ${why}\n`);
  t.skip(why);
  return true;
}

describe("terraform fmt", () => {
  it("terraform/ is formatted (terraform fmt -check -recursive)", (t) => {
    if (terraformMissing(t)) return;
    const r = fmtCheck(MODULE_DIR);
    assert.equal(r.status, 0, `run terraform fmt -recursive terraform/:\n${r.stdout}${r.stderr}`);
  });

  it("the check fails on a file that is not formatted", (t) => {
    if (terraformMissing(t)) return;
    const dir = mkdtempSync(join(tmpdir(), "vd-tf-fmt-"));
    try {
      writeFileSync(join(dir, "bad.tf"), 'variable "x" {\ntype=string\n}\n');
      assert.notEqual(fmtCheck(dir).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

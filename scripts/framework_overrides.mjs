// Versions chosen inside the Functions Framework's own dependency ranges, for its start-up
// (issue 13: the framework's module graph). The deployed package.json carries them as npm
// `overrides`, so the lockfile Cloud Build installs from holds them.
//
// get-intrinsic 1.3.0, not 1.3.1 (reached through express → qs → side-channel and
// body-parser → ...): 1.3.1 added three dependencies (async-function, generator-function,
// async-generator-function) whose `module-sync` export makes Node ≥ 20.19 and 22 load them as
// ES modules from `require`, which starts Node's ES module loader (its translators and module
// jobs) in every cold start. Side by side (30 alternating cold starts of the deployed dispatch
// each, two runs): median 780 → 751 and 786 → 701 ms wall, 650 → 620 and 610 → 605 ms CPU.
//
// Invariant: an override never leaves a declared range. checkOverrides fails the build when
// a package in the resolved tree declares a range the pinned version does not satisfy, or
// when the lockfile does not hold the pinned version: then update or drop the override here.
// test/integration/bundle_deployed.test.ts checks the effect: no deployed function starts
// Node's ES module loader.
import semver from "semver";

export const FRAMEWORK_OVERRIDES = { "get-intrinsic": "1.3.0" };

/**
 * Problems with the overrides in a parsed package-lock.json (lockfileVersion 2 or 3); [] if
 * none. Each names the package, the range or version found, and what to do.
 */
export function checkOverrides(lock, overrides = FRAMEWORK_OVERRIDES) {
  const packages = lock.packages ?? {};
  const problems = [];
  for (const [name, version] of Object.entries(overrides)) {
    const installed = packages[`node_modules/${name}`]?.version;
    if (installed !== version)
      problems.push(
        `${name}: the lockfile holds ${installed ?? "no copy"}, not the override ${version}; drop the override in scripts/framework_overrides.mjs if the framework no longer uses ${name}`,
      );
    for (const [path, entry] of Object.entries(packages)) {
      const range = entry.dependencies?.[name] ?? entry.optionalDependencies?.[name];
      if (range !== undefined && !semver.satisfies(version, range))
        problems.push(
          `${name}: ${path || "the package"} asks for ${range}, which ${version} does not satisfy; update or drop the override in scripts/framework_overrides.mjs`,
        );
    }
  }
  return problems;
}

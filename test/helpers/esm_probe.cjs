// Preloaded (NODE_OPTIONS=--require) into each deployed function by bundle_deployed.test.ts:
// at exit it says which parts of Node's ES module loader the process ran, and which files
// under node_modules outside the Functions Framework's own are in require.cache. Loading an
// ES module through `require` runs its module jobs and translators, on every cold start
// (scripts/framework_overrides.mjs keeps the framework's tree from doing so); with the
// framework preload (scripts/framework_preload.mjs), the framework's dependencies are only
// the entries the preload put in require.cache, none read from their files.
process.on("exit", () => {
  const esm = process.moduleLoadList.filter((m) =>
    /internal\/modules\/esm\/(module_job|translators)$/.test(m),
  );
  process.stderr.write(`esm loader modules: ${JSON.stringify(esm)}\n`);
  const files = Object.keys(require.cache)
    .filter(
      (f) => f.includes("/node_modules/") && !f.includes("/@google-cloud/functions-framework/"),
    )
    .map((f) => f.slice(f.indexOf("node_modules/")))
    .sort();
  process.stderr.write(`node_modules files: ${JSON.stringify(files)}\n`);
});

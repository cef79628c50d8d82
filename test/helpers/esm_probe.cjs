// Preloaded (NODE_OPTIONS=--require) into each deployed function by bundle_deployed.test.ts:
// at exit it says which parts of Node's ES module loader the process ran. Loading an ES
// module through `require` runs its module jobs and translators, on every cold start
// (scripts/framework_overrides.mjs keeps the framework's tree from doing so).
process.on("exit", () => {
  const esm = process.moduleLoadList.filter((m) =>
    /internal\/modules\/esm\/(module_job|translators)$/.test(m),
  );
  process.stderr.write(`esm loader modules: ${JSON.stringify(esm)}\n`);
});

// Loading a CommonJS bundle with its V8 code cache: one implementation for the function
// packages (scripts/code_cache.mjs embeds these functions' source in start.cjs and
// code_cache.cjs, so they take node:fs, node:vm, node:module and node:path as arguments
// and use nothing else) and for the CLI (bin/vertex-dispatch.mjs, scripts/build-cli.mjs).
//
// Invariants: the file runs exactly as `require` would run it (the same module wrapper,
// exports, require, module, __filename, __dirname), with or without a cache; a cache V8
// rejects (another V8, other bytes, other flags) only costs the time it would have saved.
// The file is ASCII, so it is read as latin1 (a copy into a one-byte string, where UTF-8
// decoding of a 4.6 MB bundle costs about 5 ms more of a cold start): esbuild writes ASCII
// (its default charset, escaping everything else), and the build checks each bundle it
// loads this way with assertAscii.

/**
 * Compiles a CommonJS file with the V8 code cache `cacheFile` when there is one.
 * Returns the script and what became of the cache: "used", "rejected" or "missing".
 */
export function compileWithCodeCache(file, { fs, vm, Module }, cacheFile = `${file}.cache`) {
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache: compile from source
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, "latin1")), {
    filename: file,
    cachedData,
    // import() in the file resolves as it would in a required module (Node >= 20.12).
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache = !cachedData ? "missing" : script.cachedDataRejected ? "rejected" : "used";
  return { script, cache };
}

/** Compiles (with its cache) and runs a CommonJS file as a new module; returns its exports. */
export function loadCommonJs(file, deps, cacheFile = `${file}.cache`) {
  const { script, cache } = compileWithCodeCache(file, deps, cacheFile);
  const { Module, path } = deps;
  const dir = path.dirname(file);
  const m = new Module(file, null);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dir);
  const run = script.runInThisContext();
  run.call(m.exports, m.exports, Module.createRequire(file), m, file, dir);
  return { exports: m.exports, script, cache };
}

/** Build time: throws, naming the first offending byte, unless `file` is ASCII (see above). */
export function assertAscii(file, fs) {
  const bytes = fs.readFileSync(file);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at >= 0)
    throw new Error(
      `${file}: byte ${at} is 0x${bytes[at].toString(16)}, not ASCII; the code cache loader reads bundles as latin1 (scripts/code_cache_load.mjs), so build them with esbuild's default charset ("ascii"), not charset: "utf8"`,
    );
}

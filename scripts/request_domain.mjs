// The Functions Framework's per-request `domain`, kept on AsyncLocalStorage (issue 13: cold
// start). preload.cjs (scripts/framework_preload.mjs) embeds installRequestDomain's source and
// runs it before the framework's main.js, when the framework is the version it was built with.
//
// Why: the framework's wrapHttpFunction, which every signature goes through, calls
// `domain.create()` for each request, and the first Domain enables the domain module's async
// hook, whose `destroy` hook makes Node track every promise from then on: about 40 ms of CPU
// before a cold start's first ack here (README, Performance), for a feature the framework
// uses only to answer 500 for the request whose callback threw. Node ports `domain` to
// AsyncLocalStorage itself in a later line (nodejs/node#61095).
//
// What the framework uses, and what this keeps:
// - `domain.create()`, `d.on("error", h)`, `d.run(fn)`: the request's callbacks run with `d`
//   as their async context (an AsyncLocalStorage store, which follows timers, ticks, I/O
//   callbacks and promises as a domain does).
// - `process.domain.bind(cb)` (its CloudEvent and event wrappers): `process.domain` is the
//   current context's Domain; `bind` runs `cb` in it.
// - An exception thrown by a callback running in a request's context goes to that request's
//   `error` handlers (the framework answers it 500 and the instance keeps serving), as with
//   `domain`. One thrown outside every request goes to the process's `uncaughtException`
//   listeners (the framework's answers the latest request and exits 16), and with none Node's
//   default is kept: the error printed, exit code 1.
//
// Invariants:
// - Only the bare name `domain` is replaced (a `require.cache` entry, which Node checks before
//   its own modules for names without `node:`); `node:domain` is Node's, and requiring it
//   after this throws ERR_DOMAIN_CALLBACK_NOT_AVAILABLE (the capture callback below is set), so
//   a mixture of the two cannot pass unnoticed. Nothing in a deployed package requires it.
// - Not kept, unused by the framework: `d.add`, `d.enter`/`d.exit`, `d.intercept`,
//   `d.members`, routing an `error` event emitted without a listener straight to the emitter's
//   domain (here it throws, and the throw reaches the context it was emitted in), and
//   `er.domain` on caught errors.
//
// The function takes Node's modules as arguments and uses nothing else, so its source can be
// embedded in preload.cjs as compileWithCodeCache's is.

/** Makes `require("domain")` (bare) and `process.domain` the AsyncLocalStorage-based ones. */
export function installRequestDomain({ AsyncLocalStorage, EventEmitter }, proc, cache) {
  const context = new AsyncLocalStorage();
  class Domain extends EventEmitter {
    run(fn, ...args) {
      return context.run(this, fn, ...args);
    }
    bind(fn) {
      const domain = this;
      return function bound(...args) {
        return context.run(domain, () => fn.apply(this, args));
      };
    }
  }
  const uncaught = (err) => {
    proc.emit("uncaughtExceptionMonitor", err, "uncaughtException");
    if (proc.listenerCount("uncaughtException") > 0)
      return void proc.emit("uncaughtException", err, "uncaughtException");
    console.error(err);
    proc.exit(1);
  };
  // First, as the one step that can fail (a capture callback already set, or Node's domain
  // already loaded): then nothing else has changed.
  proc.setUncaughtExceptionCaptureCallback((err) => {
    const domain = context.getStore();
    if (!domain || domain.listenerCount("error") === 0) return uncaught(err);
    // As Node's domain: the handler runs outside the domain, and what it throws is fatal
    // (thrown from this callback, Node exits 7 without the process's listeners).
    context.exit(() => domain.emit("error", err));
  });
  Object.defineProperty(proc, "domain", {
    configurable: true,
    enumerable: false,
    get: () => context.getStore(),
  });
  const entry = { id: "domain", filename: "domain", loaded: true, children: [], paths: [] };
  entry.exports = { Domain, create: () => new Domain(), createDomain: () => new Domain() };
  cache.domain = entry;
}

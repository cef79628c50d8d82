// `node domain_cases.cjs <node|preload> <case>`: one way of using a domain, with Node's
// `domain` or with scripts/request_domain.mjs's, for test/unit/request_domain.test.ts to
// compare what each prints and how each process exits.
const { join } = require("node:path");
const [mode, kase] = process.argv.slice(2);
const log = (...words) => console.log(words.join(" "));

const cases = {
  // Thrown outside every domain, no listener: Node prints it and exits 1.
  outside: () => setTimeout(() => fail("outside")),
  // A domain without an `error` listener does not catch.
  "no-listener": (domain) => domain.create().run(() => setTimeout(() => fail("no listener"))),
  // With a process listener, what no domain catches reaches it.
  "process-listener": (domain) => {
    process.on("uncaughtException", (e, origin) => log("process got", e.message, origin));
    domain.create().run(() => setImmediate(() => fail("no listener")));
  },
  // A timer's, an immediate's and a promise's callbacks, nested domains, each caught by its own.
  nested: (domain) => {
    const a = named(domain, "a");
    const b = named(domain, "b");
    a.run(() => {
      b.run(() => setTimeout(() => fail("in b")));
      Promise.resolve().then(() => setImmediate(() => fail("in a after a promise")));
    });
  },
  // bind: the bound function runs in the domain, wherever it is called from.
  bind: (domain) => {
    const d = named(domain, "d");
    const bound = d.bind((x) => setImmediate(() => fail(`bound ${x}`)));
    setTimeout(() => bound(7));
  },
  // An error handler that throws is fatal: exit 7, the process's listeners skipped.
  "handler-throws": (domain) => {
    process.on("uncaughtException", (e) => log("process got", e.message));
    const d = domain.create();
    d.on("error", (e) => {
      log("domain got", e.message);
      throw new Error("from the handler");
    });
    d.run(() => setTimeout(() => fail("inner")));
  },
};

function fail(message) {
  throw new Error(message);
}

/** A domain that logs what it catches, and which domain its handler runs in. */
function named(domain, name) {
  const d = domain.create();
  d.on("error", (e) => log(name, "got", e.message, "in domain", String(process.domain)));
  return d;
}

(async () => {
  if (mode === "preload") {
    const { installRequestDomain } = await import(
      join(__dirname, "../../scripts/request_domain.mjs")
    );
    const { AsyncLocalStorage } = require("node:async_hooks");
    installRequestDomain(
      { AsyncLocalStorage, EventEmitter: require("node:events") },
      process,
      require.cache,
    );
  }
  cases[kase](require(mode === "preload" ? "domain" : "node:domain"));
})();

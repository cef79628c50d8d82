// The modules the function bundles load on first use (scripts/lazy_requires.mjs): node-fetch,
// Storage, google-auth-library and Pub/Sub's tracing module bundled with the build's plugin,
// the four lazy packages left outside the bundle so that Node's require cache shows when each
// is loaded, and Node's child_process seen in a fresh process's `process.moduleLoadList`. None
// is loaded with the bundle; each is loaded, and gives what the shipped package gives, on the
// path that uses it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundle } from "../../scripts/build.mjs";
// @ts-expect-error: a plain ES module without types (scripts/ is not TypeScript).
import * as lazy from "../../scripts/lazy_requires.mjs";

interface Entry {
  file: string;
  module: string;
  rewrites: Array<{ eager: string; lazy: string; count: number }>;
}
const { LAZY_REQUIRES, rewriteLazyRequires, eagerImporters, lazyRequiresPlugin } = lazy as {
  LAZY_REQUIRES: Entry[];
  rewriteLazyRequires(entry: Entry, source: string): string;
  eagerImporters(inputs: Record<string, { imports: Array<{ path: string }> }>): string[];
  lazyRequiresPlugin(): object;
};

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, "..", "..");
const LAZY_MODULES = ["whatwg-url", "mime", "html-entities", "@opentelemetry/core"];
const TRACING = "@google-cloud/pubsub/build/src/telemetry-tracing.js";

interface Bundled {
  fetch: (url: string) => Promise<{ status: number; url: string; text(): Promise<string> }>;
  Storage: new (
    o: object,
  ) => {
    bucket(n: string): { file(n: string): { createWriteStream(o: object): { destroy(): void } } };
  };
  ApiError: new (body: object) => Error;
  tracing: Tracing;
}

type Message = { attributes?: Record<string, string>; parentSpan?: unknown };
interface Tracing {
  setGloballyEnabled(on: boolean): void;
  injectSpan(span: unknown, message: Message): void;
  extractSpan(message: Message, subscription: string): { spanContext(): { traceId: string } };
}

/** The lazy modules in Node's require cache (the bundle leaves them to Node's require). */
function loaded(): string[] {
  return LAZY_MODULES.filter((m) =>
    Object.keys(require.cache).some((k) => k.includes(`/node_modules/${m}/`)),
  );
}

let dir = "";
let bundled: Bundled;
let server: Server;
let base = "";

before(async () => {
  // Inside the repo, so the bundle's external requires resolve to the repo's node_modules.
  dir = join(ROOT, "node_modules", ".cache", "vertex-dispatch", `lazy-requires-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "entry.mjs"),
    [
      'export { default as fetch } from "node-fetch";',
      'export { Storage, ApiError } from "@google-cloud/storage";',
      'export { GoogleAuth } from "google-auth-library";',
      `export * as tracing from ${JSON.stringify(require.resolve(TRACING))};`,
      "",
    ].join("\n"),
  );
  await bundle({
    entry: join(dir, "entry.mjs"),
    outfile: join(dir, "bundle.cjs"),
    external: LAZY_MODULES,
    plugins: [lazyRequiresPlugin()],
  });
  assert.deepEqual(loaded(), [], "nothing loaded them before the bundle");
  bundled = require(join(dir, "bundle.cjs"));
  server = createServer((req, res) => {
    if (req.url === "/from") res.writeHead(302, { location: `${base}/to` }).end();
    else res.writeHead(200).end(`at ${req.url}`);
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("modules loaded on first use in the function bundles", () => {
  it("loads none of them with the bundle", () => {
    assert.equal(typeof bundled.fetch, "function");
    assert.equal(typeof bundled.Storage, "function");
    assert.deepEqual(loaded(), []);
  });

  it("node-fetch follows a redirect with Node's URL and never loads whatwg-url", async () => {
    const res = await bundled.fetch(`${base}/from`);
    assert.equal(res.status, 200);
    assert.equal(res.url, `${base}/to`);
    assert.equal(await res.text(), "at /to");
    assert.ok(!loaded().includes("whatwg-url"));
  });

  it("a write with a content type loads no mime; one without gets mime's type", () => {
    const storage = new bundled.Storage({ projectId: "p", apiEndpoint: base });
    const file = storage.bucket("b").file("launches/q/r.json");
    const given = { contentType: "application/json", resumable: false };
    file.createWriteStream(given).destroy();
    assert.ok(!loaded().includes("mime"), "mime loaded for a write that names its type");
    const guessed: { resumable: boolean; metadata?: { contentType?: string } } = {
      resumable: false,
    };
    file.createWriteStream(guessed).destroy();
    assert.ok(loaded().includes("mime"));
    const shipped = require("mime") as { getType(p: string): string | null };
    assert.equal(guessed.metadata?.contentType, shipped.getType("launches/q/r.json"));
    assert.equal(guessed.metadata?.contentType, "application/json");
  });

  it("an HTML error body is decoded with html-entities, loaded then", () => {
    assert.ok(!loaded().includes("html-entities"));
    const err = new bundled.ApiError({
      code: 502,
      response: { body: "Bad &amp; &lt;gateway&gt;" },
    });
    assert.equal(err.message, "Bad & <gateway>");
    assert.ok(loaded().includes("html-entities"));
  });

  it("google-auth-library requires child_process only to run gcloud for a project id", () => {
    // A fresh process: this one has child_process loaded already (spawnSync, the test runner).
    const script = [
      `const { GoogleAuth } = require(${JSON.stringify(join(dir, "bundle.cjs"))});`,
      "const has = () => process.moduleLoadList.some((m) => / child_process$/.test(m));",
      "const before = has();",
      "new GoogleAuth().getDefaultServiceProjectId().then((id) =>",
      "  console.log(JSON.stringify({ before, after: has(), id })));",
    ].join("\n");
    // No gcloud on PATH: the command fails and the library resolves null, as it documents.
    const run = spawnSync(process.execPath, ["-e", script], {
      cwd: ROOT,
      env: { PATH: "/nonexistent" },
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { before: false, after: true, id: null });
  });

  it("Pub/Sub's trace-context propagator is made from @opentelemetry/core on first use", () => {
    const { trace } = require("@opentelemetry/api") as {
      trace: { wrapSpanContext(c: object): { spanContext(): object } };
    };
    const span = trace.wrapSpanContext({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
    });
    const injected = (t: Tracing): Message => {
      const message: Message = {};
      t.setGloballyEnabled(true);
      try {
        t.injectSpan(span, message);
      } finally {
        t.setGloballyEnabled(false);
      }
      return message;
    };
    const message: Message = {};
    bundled.tracing.injectSpan(span, message);
    assert.deepEqual(message, {}, "tracing is off by default: nothing injected");
    assert.ok(!loaded().includes("@opentelemetry/core"));
    const ours = injected(bundled.tracing);
    assert.ok(loaded().includes("@opentelemetry/core"));
    const theirs = injected(require(TRACING) as Tracing);
    assert.deepEqual(ours.attributes, theirs.attributes);
    assert.equal(
      ours.attributes?.googclient_traceparent,
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    );
    bundled.tracing.setGloballyEnabled(true);
    try {
      const received = bundled.tracing.extractSpan({ attributes: ours.attributes }, "s");
      assert.equal(received.spanContext().traceId, "0af7651916cd43dd8448eb211c80319c");
    } finally {
      bundled.tracing.setGloballyEnabled(false);
    }
  });
});

describe("the lazy-requires rewrites", () => {
  const shipped = (entry: Entry) => readFileSync(join(ROOT, entry.file), "utf8");

  it("match every listed file as shipped", () => {
    for (const entry of LAZY_REQUIRES) {
      const out = rewriteLazyRequires(entry, shipped(entry));
      for (const r of entry.rewrites)
        assert.ok(!out.includes(r.eager), `${entry.file}: ${r.eager}`);
    }
  });

  it("fail the build naming the file when the shipped code changes", () => {
    const [entry] = LAZY_REQUIRES as [Entry];
    const changed = shipped(entry).replace(entry.rewrites[0]?.eager ?? "", "");
    assert.throws(
      () => rewriteLazyRequires(entry, changed),
      new RegExp(`in ${entry.file}, found 0; the package changed`),
    );
  });

  it("fail the build when the file uses the module another way too", () => {
    const entry = LAZY_REQUIRES.find((e) => e.module === "mime") as Entry;
    const more = `${shipped(entry)}\nconst extra = mime.getExtension("text/plain");\n`;
    assert.throws(() => rewriteLazyRequires(entry, more), /still uses mime eagerly/);
  });

  it("fail the build when another bundled file imports a lazy module", () => {
    const inputs = {
      "node_modules/node-fetch/lib/index.js": {
        imports: [{ path: "node_modules/whatwg-url/lib/public-api.js" }],
      },
      "node_modules/whatwg-url/lib/public-api.js": {
        imports: [{ path: "node_modules/tr46/index.js" }],
      },
      "node_modules/other/index.js": { imports: [{ path: "node_modules/mime/index.js" }] },
      "node_modules/google-gax/build/src/grpc.js": { imports: [{ path: "child_process" }] },
      "node_modules/spawner/index.js": { imports: [{ path: "node:child_process" }] },
    };
    assert.deepEqual(eagerImporters(inputs), [
      "node_modules/other/index.js also imports mime",
      "node_modules/spawner/index.js also imports child_process",
    ]);
  });
});

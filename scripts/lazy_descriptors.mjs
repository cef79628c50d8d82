// Lazy reflection descriptors inside the function bundles (issue 13): @grpc/proto-loader's
// fromJSON, which google-gax's loadProtoJSON calls for every client, also turns the whole
// root into FileDescriptorProtos (encoded) and every message and enum into a
// DescriptorProto object. Those are only read by gRPC server reflection and tools that ask
// for `type` / `fileDescriptorProtos`; a client call never does. This esbuild plugin
// rewrites proto-loader so both are computed on first read, once. protobufjs's descriptor
// extension (`protobufjs/ext/descriptor`: descriptor.proto parsed into its own root, and the
// toDescriptor/fromDescriptor methods it adds to protobufjs), which only those descriptors
// and the FileDescriptorSet loaders read, is required on first use too: at module top level
// it was about 8 ms of every cold start.
//
// Invariants:
// - Every rewrite matches exactly the code it expects, the expected number of times, or the
//   build fails naming it (a new proto-loader release fails loudly).
// - `type` and `fileDescriptorProtos` stay enumerable properties with the same values as
//   before (computed from the same resolved root, which nothing changes after loading).
// - Serializers, deserializers, paths and options are still made eagerly, as before.
// - Nothing reads protobufjs's descriptor extension (`descriptor.*`, `toDescriptor`,
//   `fromDescriptor`) before `__vdDescriptor()` has required it.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

const LOADER = /[\\/]@grpc[\\/]proto-loader[\\/]build[\\/]src[\\/]index\.js$/;

const HELPERS = `
function __vdOnce(make) { let done = false, value; return () => { if (!done) { value = make(); done = true; } return value; }; }
function __vdLazyFields(target, fields) {
  for (const [name, make] of Object.entries(fields)) {
    const set = (value) => Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(target, name, { get() { const value = make(); set(value); return value; }, set, enumerable: true, configurable: true });
  }
  return target;
}
`;

/** [name, pattern, replacement, expected count]. */
export const REWRITES = [
  [
    "the descriptor extension's require",
    /const descriptor = require\("protobufjs\/ext\/descriptor"\);/g,
    'const __vdDescriptor = __vdOnce(() => require("protobufjs/ext/descriptor"));',
    1,
  ],
  [
    "the file descriptors of the root",
    /const descriptorList = root\.toDescriptor\('proto3'\)\.file;\s*const bufferList = descriptorList\.map\(value => Buffer\.from\(descriptor\.FileDescriptorProto\.encode\(value\)\.finish\(\)\)\);/g,
    "const bufferList = __vdOnce(() => { const descriptor = __vdDescriptor(); return root.toDescriptor('proto3').file.map(value => Buffer.from(descriptor.FileDescriptorProto.encode(value).finish())); });",
    1,
  ],
  [
    "the message definition",
    /const messageDescriptor = message\.toDescriptor\('proto3'\);\s*return \{\s*format: 'Protocol Buffer 3 DescriptorProto',\s*type: messageDescriptor\.\$type\.toObject\(messageDescriptor, descriptorOptions\),\s*fileDescriptorProtos: fileDescriptors,\s*serialize: createSerializer\(message\),\s*deserialize: createDeserializer\(message, options\)\s*\};/g,
    `return __vdLazyFields({
        format: 'Protocol Buffer 3 DescriptorProto',
        serialize: createSerializer(message),
        deserialize: createDeserializer(message, options)
    }, {
        type: () => { __vdDescriptor(); const d = message.toDescriptor('proto3'); return d.$type.toObject(d, descriptorOptions); },
        fileDescriptorProtos: fileDescriptors,
    });`,
    1,
  ],
  [
    "the enum definition",
    /const enumDescriptor = enumType\.toDescriptor\('proto3'\);\s*return \{\s*format: 'Protocol Buffer 3 EnumDescriptorProto',\s*type: enumDescriptor\.\$type\.toObject\(enumDescriptor, descriptorOptions\),\s*fileDescriptorProtos: fileDescriptors,\s*\};/g,
    `return __vdLazyFields({
        format: 'Protocol Buffer 3 EnumDescriptorProto',
    }, {
        type: () => { __vdDescriptor(); const d = enumType.toDescriptor('proto3'); return d.$type.toObject(d, descriptorOptions); },
        fileDescriptorProtos: fileDescriptors,
    });`,
    1,
  ],
  [
    "the FileDescriptorSet loaders' reads of the extension",
    /descriptor\.FileDescriptorSet\./g,
    "__vdDescriptor().FileDescriptorSet.",
    2,
  ],
  [
    "the root made from a FileDescriptorSet",
    /const root = Protobuf\.Root\.fromDescriptor\(decodedDescriptorSet\);/g,
    "__vdDescriptor();\n    const root = Protobuf.Root.fromDescriptor(decodedDescriptorSet);",
    1,
  ],
];

/** The rewritten source of proto-loader's index.js; throws if any rewrite does not match. */
export function rewriteProtoLoader(source) {
  let out = source;
  for (const [name, pattern, replacement, expected] of REWRITES) {
    const found = out.match(pattern)?.length ?? 0;
    if (found !== expected)
      throw new Error(
        `lazy-descriptors: expected ${expected} × ${name} in @grpc/proto-loader's index.js, found ${found}; @grpc/proto-loader changed: update scripts/lazy_descriptors.mjs`,
      );
    out = out.replace(pattern, () => replacement);
  }
  const direct = out.match(/(?<![\w.$])descriptor\.(?!FileDescriptorProto\.encode)/g)?.length ?? 0;
  if (direct !== 0)
    throw new Error(
      `lazy-descriptors: @grpc/proto-loader's index.js reads the descriptor extension ${direct} more times than the rewrites know; update scripts/lazy_descriptors.mjs`,
    );
  const eager = out.match(/toDescriptor\('proto3'\)/g)?.length ?? 0;
  if (eager !== 3)
    throw new Error(
      `lazy-descriptors: @grpc/proto-loader's index.js calls toDescriptor ${eager} times, expected the 3 lazy ones; update scripts/lazy_descriptors.mjs`,
    );
  return `${HELPERS}${out}`;
}

/** The esbuild plugin; fails the build if the bundle has proto-loader and it was not rewritten. */
export function lazyDescriptorsPlugin() {
  return {
    name: "lazy-descriptors",
    setup(build) {
      let rewritten = 0;
      build.onStart(() => {
        rewritten = 0;
      });
      build.onLoad({ filter: /proto-loader[\\/]build[\\/]src[\\/]index\.js$/ }, (args) => {
        if (!LOADER.test(args.path)) return undefined;
        rewritten++;
        const contents = rewriteProtoLoader(readFileSync(args.path, "utf8"));
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
      build.onEnd((result) => {
        const has = Object.keys(result.metafile?.inputs ?? {}).some((f) =>
          /@grpc\/proto-loader\/build\/src\/index\.js$/.test(f),
        );
        if (has && rewritten === 0)
          throw new Error(
            "lazy-descriptors: the bundle has @grpc/proto-loader but the plugin never loaded it; update scripts/lazy_descriptors.mjs",
          );
      });
    },
  };
}

// Runs the Vertex AI emulator on its own:
//   node --import tsx local/vertex/main.ts [--grpc-port 9010] [--rest-port 9011]
//     [--gcs-endpoint http://127.0.0.1:9023] [--clock manual|instant|timed]
import { parseArgs } from "node:util";
import { type ClockConfig, startVertexEmulator } from "./index.js";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    "grpc-port": { type: "string" },
    "rest-port": { type: "string" },
    "gcs-endpoint": { type: "string" },
    clock: { type: "string" },
  },
});
const mode = values.clock ?? "timed";
if (!["manual", "instant", "timed"].includes(mode)) {
  console.error(`--clock must be manual, instant or timed, not ${mode}`);
  process.exit(2);
}
const emulator = await startVertexEmulator({
  host: values.host,
  grpcPort: values["grpc-port"] === undefined ? undefined : Number(values["grpc-port"]),
  restPort: values["rest-port"] === undefined ? undefined : Number(values["rest-port"]),
  gcsEndpoint: values["gcs-endpoint"],
  clock: mode === "timed" ? undefined : ({ mode } as ClockConfig),
  log: (line) => console.log(line),
});
console.log(`VERTEX_ENDPOINT=${emulator.grpcAddress}`);
console.log(`VERTEX_REST_ENDPOINT=${emulator.restUrl}`);
const stop = () => {
  emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

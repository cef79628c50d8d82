// Standalone GCS emulator: `node --import tsx local/gcs/main.ts [--host H] [--port N]`.
// Serves until SIGINT or SIGTERM.
import { parseArgs } from "node:util";
import { DEFAULT_GCS_PORT, startGcsEmulator } from "./index.js";

const { values } = parseArgs({
  options: { host: { type: "string" }, port: { type: "string" }, quiet: { type: "boolean" } },
});
const emulator = await startGcsEmulator({
  host: values.host ?? "127.0.0.1",
  port: values.port === undefined ? DEFAULT_GCS_PORT : Number(values.port),
  log: values.quiet ? () => {} : (line) => process.stdout.write(`gcs: ${line}\n`),
});
process.stdout.write(
  `GCS emulator on ${emulator.url} (control API: ${emulator.url}/emulator/v1/)\n`,
);
const stop = () => {
  emulator.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

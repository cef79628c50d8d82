// Runs the W&B API emulator on its own:
//   node --import tsx local/wandb/main.ts [--port 9030] [--lease-seconds 60]
import { parseArgs } from "node:util";
import { startWandbEmulator } from "./index.js";

const { values } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    "lease-seconds": { type: "string" },
  },
});
const emulator = await startWandbEmulator({
  host: values.host,
  port: values.port === undefined ? undefined : Number(values.port),
  leaseSeconds: values["lease-seconds"] === undefined ? undefined : Number(values["lease-seconds"]),
  log: (line) => console.log(line),
});
console.log(`WANDB_BASE_URL=${emulator.url}`);
console.log(`WANDB_API_KEY=${emulator.apiKey}`);
const stop = () => {
  emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

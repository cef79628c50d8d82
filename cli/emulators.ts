// Placeholder until this command lands; replaced by its implementation.
import type { Env } from "./main.js";

export async function emulators(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write("vertex-dispatch emulators: not built yet\n");
  return 1;
}

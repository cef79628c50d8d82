// Placeholder until this command lands; replaced by its implementation.
import type { Env } from "./main.js";

export async function render(_argv: string[], _env: Env): Promise<number> {
  process.stderr.write("vertex-dispatch render: not built yet\n");
  return 1;
}

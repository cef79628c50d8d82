#!/usr/bin/env node
// The `vertex-dispatch` command. It runs the TypeScript CLI through tsx, so a fresh
// clone needs nothing but `npm ci`: no build step stands between a user and the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2), process.env);

// Types of scripts/build-cli.mjs, for the TypeScript callers (tests, scripts/build.mjs).
export function buildCli(options?: { root?: string; quiet?: boolean }): Promise<string>;
export function protoSubset(root?: string): Record<string, unknown>;
/** Makes dir/main.cjs.cache; returns why it could not, or undefined. */
export function makeCliCodeCache(dir: string): string | undefined;
export const CLI_BUNDLE: string;

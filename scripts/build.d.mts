// Types of scripts/build.mjs, for the TypeScript callers (tests).
export const ROOT: string;
export const FRAMEWORK: string;
export const SIZE_LIMIT_BYTES: number;
/** Where the function packages' `npm ci` installs are kept (scripts/deployed_install.mjs). */
export function installCache(root?: string): string;
export interface FunctionSizes {
  name: string;
  bundle_bytes: number;
  package_bytes: number;
  zip_bytes: number;
  zip: string;
}
export function functionNames(root?: string): string[];
export function bundle(options: {
  entry: string;
  outfile: string;
  external?: string[];
  format?: "cjs" | "esm";
  banner?: string;
  /** esbuild plugins (the functions use the service-only descriptors plugin). */
  plugins?: unknown[];
  /** Unminified, each module under its `// <path>` line (bench/module_times.ts only). */
  readable?: boolean;
}): Promise<unknown>;
export function functionPackageJson(name: string, root?: string): Record<string, unknown>;
/** The build's own files, hashed with the bundle's inputs. */
export const BUILD_FILES: string[];
export function inputsHash(root: string, inputs: string[]): string;
export function isFresh(name: string, root?: string): boolean;
export function buildFunctions(options?: {
  root?: string;
  names?: string[];
  log?: (line: string) => void;
  /** Where dist/ goes (default root/dist). */
  outRoot?: string;
  readable?: boolean;
}): Promise<{ sizes: FunctionSizes[]; over: FunctionSizes[] }>;
/** The sizes an earlier build wrote (sizes.json) for functions that still exist and are still built. */
export function keptSizes(sizesFile: string, names: string[]): Record<string, object>;

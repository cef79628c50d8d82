// Types of tools/terraform_docs.mjs, for the TypeScript callers (tests).
export const MODULE_DIR: string;
export const README: string;
export function renderTables(dir?: string): Promise<string>;
export function withTables(readme: string, tables: string): string;

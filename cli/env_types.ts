// The environment as the CLI receives it: a plain map, passed in (never process.env).
export type Env = Record<string, string | undefined>;

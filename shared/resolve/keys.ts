// Key spelling checks: snake_case keys, did-you-mean hints for unknown keys, and the
// snake_case spelling of a camelCase key. Pure string functions, shared by the schemas
// (unknown keys in the message and the queue config) and the resolver (template and
// macro names, enum names).

/** Levenshtein distance between two strings (small inputs: keys and enum names). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidate to `word`, if it is close enough to be a plausible typo:
 * case-insensitive distance at most max(2, a third of the word's length).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  if (bestDistance <= limit) return best;
  // A shortened or lengthened spelling (`project` for `project_name`).
  if (w.length >= 4)
    return candidates.find((c) => c.toLowerCase().startsWith(w) || w.startsWith(c.toLowerCase()));
  return undefined;
}

/** `workerPoolSpecs` → `worker_pool_specs`; `imageURI` → `image_uri`; snake_case stays as is. */
export function toSnakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/-/g, "_")
    .toLowerCase();
}

/** Keys users put in the wrong section, with where they belong. */
const MOVED_KEYS: Record<string, string> = {
  project: "set the GCP project with the top-level `project` key of the queue config",
  location: "set the Vertex region with the top-level `region` key of the queue config",
  region: "set the Vertex region with the top-level `region` key of the queue config",
};

/** The message for an unknown key: the snake_case spelling, a did-you-mean hint, or the allowed keys. */
export function unknownKeyMessage(
  key: string,
  known: readonly string[],
  options: { nested?: boolean } = {},
): string {
  const snake = toSnakeCase(key);
  if (snake !== key && known.includes(snake)) {
    return `keys are snake_case: write "${snake}" instead of "${key}"`;
  }
  const moved = options.nested ? MOVED_KEYS[key] : undefined;
  if (moved) return `unknown key "${key}" here: ${moved}`;
  const hint = didYouMean(snake, known);
  if (hint) return `unknown key "${key}": did you mean "${hint}"?`;
  return `unknown key "${key}"; allowed keys: ${[...known].sort().join(", ")}`;
}

/** The message for a value outside a closed list (enum names): did-you-mean, else the list. */
export function unknownValueMessage(
  what: string,
  value: string,
  allowed: readonly string[],
): string {
  const hint = didYouMean(value, allowed);
  const list = allowed.join(", ");
  return hint
    ? `unknown ${what} "${value}": did you mean "${hint}"? (allowed: ${list})`
    : `unknown ${what} "${value}"; allowed: ${list}`;
}

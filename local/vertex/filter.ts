// The ListCustomJobs filter (AIP-160 subset the JobService documents):
//   display_name  =, != and : (wildcard "*")
//   state         =, !=
//   create_time   =, !=, <, <=, >, >= against an RFC 3339 timestamp
//   labels.KEY    =, != a value; labels.KEY:* (the key exists); labels:KEY (the key exists)
// combined with AND, OR, NOT (or "-"), parentheses and implicit AND (juxtaposition).
// As in AIP-160, OR binds tighter than AND: `a AND b OR c` is `a AND (b OR c)`.
import { ApiError } from "./errors.js";
import { isObject, type JsonObject, parseTimestamp } from "./json.js";

type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":";

type Node =
  | { kind: "and"; items: Node[] }
  | { kind: "or"; items: Node[] }
  | { kind: "not"; item: Node }
  | { kind: "cmp"; field: string; op: Comparator; value: string; quoted: boolean };

interface Token {
  type: "word" | "string" | "op" | "lparen" | "rparen";
  text: string;
}

function invalid(filter: string, detail: string): ApiError {
  return new ApiError("INVALID_ARGUMENT", `Invalid filter "${filter}": ${detail}`);
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(") {
      tokens.push({ type: "lparen", text: c });
      i++;
    } else if (c === ")") {
      tokens.push({ type: "rparen", text: c });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = "";
      while (j < filter.length && filter[j] !== c) {
        if (filter[j] === "\\" && j + 1 < filter.length) j++;
        text += filter[j];
        j++;
      }
      if (j >= filter.length) throw invalid(filter, "unterminated string");
      tokens.push({ type: "string", text });
      i = j + 1;
    } else if (/[<>=!:]/.test(c)) {
      const two = filter.slice(i, i + 2);
      if (two === "<=" || two === ">=" || two === "!=") {
        tokens.push({ type: "op", text: two });
        i += 2;
      } else if (c === "!") {
        throw invalid(filter, `unexpected "!" at position ${i}`);
      } else {
        tokens.push({ type: "op", text: c });
        i++;
      }
    } else {
      let j = i;
      while (j < filter.length && !/[\s()<>=!:"']/.test(filter[j] as string)) j++;
      tokens.push({ type: "word", text: filter.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly filter: string,
  ) {}

  parse(): Node {
    const node = this.expression();
    if (this.pos < this.tokens.length) {
      throw invalid(this.filter, `unexpected "${this.tokens[this.pos]?.text}"`);
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isWord(text: string): boolean {
    const t = this.peek();
    return t?.type === "word" && t.text === text;
  }

  // expression := sequence { "AND" sequence }
  private expression(): Node {
    const items = [this.sequence()];
    while (this.isWord("AND")) {
      this.pos++;
      items.push(this.sequence());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: "and", items };
  }

  // sequence := factor { factor }   (implicit AND)
  private sequence(): Node {
    const items = [this.factor()];
    for (;;) {
      const t = this.peek();
      if (
        !t ||
        t.type === "rparen" ||
        (t.type === "word" && (t.text === "AND" || t.text === "OR"))
      ) {
        break;
      }
      items.push(this.factor());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: "and", items };
  }

  // factor := term { "OR" term }
  private factor(): Node {
    const items = [this.term()];
    while (this.isWord("OR")) {
      this.pos++;
      items.push(this.term());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: "or", items };
  }

  // term := [ "NOT" | "-" ] simple
  private term(): Node {
    if (this.isWord("NOT")) {
      this.pos++;
      return { kind: "not", item: this.simple() };
    }
    const t = this.peek();
    if (t?.type === "word" && t.text.startsWith("-") && t.text.length > 1) {
      this.tokens[this.pos] = { type: "word", text: t.text.slice(1) };
      return { kind: "not", item: this.simple() };
    }
    return this.simple();
  }

  // simple := "(" expression ")" | field comparator value
  private simple(): Node {
    const t = this.peek();
    if (!t) throw invalid(this.filter, "unexpected end of filter");
    if (t.type === "lparen") {
      this.pos++;
      const node = this.expression();
      if (this.peek()?.type !== "rparen") throw invalid(this.filter, 'missing ")"');
      this.pos++;
      return node;
    }
    if (t.type !== "word" || ["AND", "OR", "NOT"].includes(t.text)) {
      throw invalid(this.filter, `unexpected "${t.text}"`);
    }
    this.pos++;
    const op = this.peek();
    if (op?.type !== "op") {
      throw invalid(this.filter, `"${t.text}" must be followed by a comparison`);
    }
    this.pos++;
    const value = this.peek();
    if (!value || (value.type !== "word" && value.type !== "string")) {
      throw invalid(this.filter, `missing value after "${t.text}${op.text}"`);
    }
    this.pos++;
    return {
      kind: "cmp",
      field: t.text,
      op: op.text as Comparator,
      value: value.text,
      quoted: value.type === "string",
    };
  }
}

const STATES = new Set([
  "JOB_STATE_UNSPECIFIED",
  "JOB_STATE_QUEUED",
  "JOB_STATE_PENDING",
  "JOB_STATE_RUNNING",
  "JOB_STATE_SUCCEEDED",
  "JOB_STATE_FAILED",
  "JOB_STATE_CANCELLING",
  "JOB_STATE_CANCELLED",
  "JOB_STATE_PAUSED",
  "JOB_STATE_EXPIRED",
  "JOB_STATE_UPDATING",
  "JOB_STATE_PARTIALLY_SUCCEEDED",
]);

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

function normalizeField(field: string): string {
  if (field === "displayName") return "display_name";
  if (field === "createTime") return "create_time";
  return field;
}

/** Checks one comparison's shape up front, so a bad filter fails even on an empty list. */
function checkComparison(node: Extract<Node, { kind: "cmp" }>, filter: string): void {
  const field = normalizeField(node.field);
  if (field === "display_name") {
    if (!["=", "!=", ":"].includes(node.op))
      throw invalid(filter, `display_name does not support "${node.op}"`);
  } else if (field === "state") {
    if (node.op !== "=" && node.op !== "!=")
      throw invalid(filter, `state does not support "${node.op}"`);
    if (!STATES.has(node.value)) throw invalid(filter, `unknown state "${node.value}"`);
  } else if (field === "create_time") {
    if (node.op === ":") throw invalid(filter, 'create_time does not support ":"');
    if (!parseTimestamp(node.value)) {
      throw invalid(
        filter,
        `create_time must be compared with an RFC 3339 timestamp, got "${node.value}"`,
      );
    }
  } else if (field === "labels") {
    if (node.op !== ":") throw invalid(filter, 'labels supports only "labels:KEY" or "labels.KEY"');
  } else if (field.startsWith("labels.") && field.length > 7) {
    if (!["=", "!=", ":"].includes(node.op))
      throw invalid(filter, `labels do not support "${node.op}"`);
  } else {
    throw invalid(filter, `unsupported field "${node.field}"`);
  }
}

function walk(node: Node, visit: (n: Extract<Node, { kind: "cmp" }>) => void): void {
  if (node.kind === "cmp") visit(node);
  else if (node.kind === "not") walk(node.item, visit);
  else for (const item of node.items) walk(item, visit);
}

function timeMs(text: string): number {
  const ts = parseTimestamp(text);
  return ts ? ts.seconds * 1000 + ts.nanos / 1e6 : Number.NaN;
}

function compare(node: Extract<Node, { kind: "cmp" }>, job: JsonObject): boolean {
  const field = normalizeField(node.field);
  if (field === "display_name") {
    const name = String(job.displayName ?? "");
    if (node.op === ":") return wildcard(node.value).test(name);
    return node.op === "=" ? name === node.value : name !== node.value;
  }
  if (field === "state") {
    const state = String(job.state ?? "JOB_STATE_UNSPECIFIED");
    return node.op === "=" ? state === node.value : state !== node.value;
  }
  if (field === "create_time") {
    const a = timeMs(String(job.createTime ?? ""));
    const b = timeMs(node.value);
    switch (node.op) {
      case "=":
        return a === b;
      case "!=":
        return a !== b;
      case "<":
        return a < b;
      case "<=":
        return a <= b;
      case ">":
        return a > b;
      default:
        return a >= b;
    }
  }
  const labels = isObject(job.labels) ? job.labels : {};
  if (field === "labels") return Object.hasOwn(labels, node.value);
  const key = field.slice("labels.".length);
  const has = Object.hasOwn(labels, key);
  const value = has ? String(labels[key]) : undefined;
  if (node.op === ":") return node.value === "*" ? has : value === node.value;
  return node.op === "=" ? value === node.value : value !== node.value;
}

function evaluate(node: Node, job: JsonObject): boolean {
  switch (node.kind) {
    case "and":
      return node.items.every((n) => evaluate(n, job));
    case "or":
      return node.items.some((n) => evaluate(n, job));
    case "not":
      return !evaluate(node.item, job);
    default:
      return compare(node, job);
  }
}

/** Compiles a filter into a predicate; an empty filter matches everything. */
export function compileFilter(filter: string): (job: JsonObject) => boolean {
  if (filter.trim() === "") return () => true;
  const node = new Parser(tokenize(filter), filter).parse();
  walk(node, (cmp) => checkComparison(cmp, filter));
  return (job) => evaluate(node, job);
}

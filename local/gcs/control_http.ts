// The control API over HTTP, under /emulator/v1/ (JSON in, JSON out):
//   GET    /emulator/v1/health                 {"ok": true}
//   GET    /emulator/v1/faults                 {"faults": [Fault]}
//   POST   /emulator/v1/faults   FaultSpec     Fault (with its id)
//   DELETE /emulator/v1/faults                 clears every fault
//   DELETE /emulator/v1/faults/ID              removes one
//   GET    /emulator/v1/deny                   {"buckets": [...], "principal": "..."}
//   PUT    /emulator/v1/deny     {"buckets": [...], "principal"?: "..."}   replaces the list
//   POST   /emulator/v1/deny     {"bucket": "b"}                          adds one
//   DELETE /emulator/v1/deny/B                 removes one
//   GET    /emulator/v1/requests[?operation=objects.get]   {"requests": [...], "counts": {...}}
//   DELETE /emulator/v1/requests               clears the log, counts and write rates
//   GET    /emulator/v1/write-rates[?top=10]    writes per object per second (WriteRateReport)
//   POST   /emulator/v1/reset                  faults, deny list, log and all data
import type { Control, FaultSpec } from "./control.js";

export interface ControlAnswer {
  status: number;
  json: unknown;
}

/** One control request; a resource's handler answers undefined for a method it lacks. */
interface Call {
  control: Control;
  method: string;
  id: string | undefined;
  url: URL;
  body: Buffer;
}

const RESOURCES = new Map<string, (c: Call) => ControlAnswer | undefined>([
  ["health", (c) => (c.method === "GET" ? ok({ ok: true }) : undefined)],
  ["faults", faults],
  ["deny", deny],
  ["requests", requests],
  ["write-rates", writeRates],
  ["reset", reset],
]);

export function handleControl(
  control: Control,
  method: string,
  url: URL,
  body: Buffer,
): ControlAnswer {
  const parts = url.pathname.split("/").slice(3).map(decodeURIComponent); // after /emulator/v1/
  const [resource, id] = parts;
  try {
    const answer = RESOURCES.get(resource ?? "")?.({ control, method, id, url, body });
    return answer ?? problem(404, `no control endpoint ${method} ${url.pathname}`);
  } catch (err) {
    return problem(400, err instanceof Error ? err.message : String(err));
  }
}

function faults({ control, method, id, body }: Call): ControlAnswer | undefined {
  if (method === "GET" && !id) return ok({ faults: control.faults() });
  if (method === "POST" && !id) return ok(control.injectFault(json(body) as unknown as FaultSpec));
  if (method === "DELETE" && !id) {
    control.clearFaults();
    return ok({});
  }
  if (method === "DELETE" && id) {
    return control.removeFault(id) ? ok({}) : problem(404, `no fault ${id}`);
  }
  return undefined;
}

function deny({ control, method, id, body }: Call): ControlAnswer | undefined {
  if (method === "GET" && !id) return ok(control.denyList());
  if (method === "PUT" && !id) {
    const input = json(body);
    const buckets = input.buckets;
    if (!Array.isArray(buckets) || buckets.some((b) => typeof b !== "string")) {
      return problem(400, "buckets must be a list of bucket names");
    }
    const principal = typeof input.principal === "string" ? input.principal : undefined;
    control.setDenyList(principal === undefined ? { buckets } : { buckets, principal });
    return ok(control.denyList());
  }
  if (method === "POST" && !id) {
    const bucket = json(body).bucket;
    if (typeof bucket !== "string") return problem(400, "bucket must be a bucket name");
    control.deny(bucket);
    return ok(control.denyList());
  }
  if (method === "DELETE" && id) {
    control.allow(id);
    return ok(control.denyList());
  }
  return undefined;
}

function requests({ control, method, id, url }: Call): ControlAnswer | undefined {
  if (id) return undefined;
  if (method === "GET") {
    const operation = url.searchParams.get("operation") ?? undefined;
    return ok({ requests: control.requests(operation), counts: control.counts() });
  }
  if (method === "DELETE") {
    control.clearRequests();
    return ok({});
  }
  return undefined;
}

function writeRates({ control, method, id, url }: Call): ControlAnswer | undefined {
  if (method !== "GET" || id) return undefined;
  const top = url.searchParams.get("top");
  return ok(control.writeRates(top === null ? undefined : Number(top)));
}

function reset({ control, method, id }: Call): ControlAnswer | undefined {
  if (method !== "POST" || id) return undefined;
  control.reset();
  return ok({});
}

function ok(value: unknown): ControlAnswer {
  return { status: 200, json: value };
}

function problem(status: number, message: string): ControlAnswer {
  return { status, json: { error: { code: status, message } } };
}

function json(body: Buffer): Record<string, unknown> {
  const value: unknown = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

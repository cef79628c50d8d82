// The HTTP control API, on the REST port under /emulator/v1/ (see docs/vertex-emulator.md).
// Answers JSON; errors are {"error": {"code": <http status>, "message": ...}}.

import {
  type AdvanceInput,
  ControlError,
  type OutcomeInput,
  type VertexControl,
} from "./control.js";
import type { FaultInput } from "./faults.js";
import type { ClockConfig } from "./lifecycle.js";

export const CONTROL_PREFIX = "/emulator/v1";

export interface ControlAnswer {
  status: number;
  body: unknown;
}

function need(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ControlError(400, "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** Handles one control request; `path` is the part after /emulator/v1. */
export function handleControl(
  control: VertexControl,
  method: string,
  path: string,
  body: unknown,
): ControlAnswer {
  try {
    return route(control, method, path, body);
  } catch (err) {
    const status = err instanceof ControlError ? err.httpStatus : 500;
    return { status, body: { error: { code: status, message: (err as Error).message } } };
  }
}

function route(control: VertexControl, method: string, path: string, body: unknown): ControlAnswer {
  const ok = (value: unknown): ControlAnswer => ({ status: 200, body: value });
  const key = `${method} ${path}`;
  switch (key) {
    case "GET /state":
      return ok({
        clock: control.getClock(),
        actAs: control.getActAs(),
        faults: control.listFaults(),
        jobs: control.jobs(),
      });
    case "GET /jobs":
      return ok({ jobs: control.jobs() });
    case "POST /outcome":
      control.setOutcome(need(body) as unknown as OutcomeInput);
      return ok({});
    case "POST /advance":
      return ok({ jobs: control.advance((body ?? {}) as AdvanceInput) });
    case "GET /clock":
      return ok(control.getClock());
    case "PUT /clock":
    case "POST /clock":
      control.setClock(need(body) as unknown as ClockConfig);
      return ok(control.getClock());
    case "GET /faults":
      return ok({ faults: control.listFaults() });
    case "POST /faults":
      return ok(control.addFault(need(body) as unknown as FaultInput));
    case "DELETE /faults":
      control.clearFaults();
      return ok({});
    case "GET /act-as":
      return ok({ accounts: control.getActAs() });
    case "PUT /act-as":
    case "POST /act-as": {
      const accounts = need(body).accounts;
      control.setActAs((accounts ?? null) as string[] | null);
      return ok({ accounts: control.getActAs() });
    }
    case "GET /requests":
      return ok(control.requests());
    case "DELETE /requests":
      control.clearRequests();
      return ok({});
    case "POST /reset":
      control.reset();
      return ok({});
  }
  const fault = /^DELETE \/faults\/(\d+)$/.exec(key);
  if (fault) {
    if (!control.removeFault(Number(fault[1]))) throw new ControlError(404, "no such fault");
    return ok({});
  }
  const job = /^GET \/jobs\/(.+)$/.exec(key);
  if (job) return ok(control.job(decodeURIComponent(job[1] as string)));
  throw new ControlError(404, `unknown control endpoint: ${method} ${CONTROL_PREFIX}${path}`);
}

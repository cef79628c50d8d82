// Errors in the shape the Cloud Storage JSON API answers with:
// {"error": {"code", "message", "errors": [{"message", "domain", "reason", ...}]}}.

export interface GcsErrorDetail {
  location?: string;
  locationType?: string;
}

export class GcsError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
    readonly detail: GcsErrorDetail = {},
  ) {
    super(message);
  }

  body(): object {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [{ message: this.message, domain: "global", reason: this.reason, ...this.detail }],
      },
    };
  }
}

export function bucketNotFound(): GcsError {
  return new GcsError(404, "The specified bucket does not exist.", "notFound");
}

export function objectNotFound(bucket: string, name: string): GcsError {
  return new GcsError(404, `No such object: ${bucket}/${name}`, "notFound");
}

export function conditionNotMet(header: string): GcsError {
  return new GcsError(
    412,
    "At least one of the pre-conditions you specified did not hold.",
    "conditionNotMet",
    { locationType: "header", location: header },
  );
}

export function invalid(message: string): GcsError {
  return new GcsError(400, message, "invalid");
}

export function required(parameter: string): GcsError {
  return new GcsError(400, `Required parameter: ${parameter}`, "required");
}

/** The 403 GCS gives a caller without the permission (or when the resource may not exist). */
export function forbidden(principal: string, permission: string, kind: string): GcsError {
  return new GcsError(
    403,
    `${principal} does not have ${permission} access to the Google Cloud Storage ${kind}. Permission '${permission}' denied on resource (or it may not exist).`,
    "forbidden",
  );
}

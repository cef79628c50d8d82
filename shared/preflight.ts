// Preflight checks (SPEC §5): what Vertex would reject late, or what would make a job
// fail after it was paid for, checked before any job is created. Every failure is a
// `preflight_failed` error that says what to do; nothing is created.
import type { Storage } from "@google-cloud/storage";
import { DispatchError } from "./errors.js";
import { httpStatus, storageError } from "./storage/errors.js";

export interface BucketInfo {
  location: string;
  locationType: string;
}

/** Reads a bucket's location; throws preflight_failed for missing/denied, storage_unavailable for 429/5xx. */
export type BucketInfoReader = (bucket: string) => Promise<BucketInfo>;

export function storageBucketInfo(storage: Storage): BucketInfoReader {
  return async (bucket) => {
    try {
      const [metadata] = await storage.bucket(bucket).getMetadata();
      return {
        location: String(metadata.location ?? ""),
        locationType: String(metadata.locationType ?? ""),
      };
    } catch (err) {
      const status = httpStatus(err);
      if (status === 404) {
        throw new DispatchError(
          "preflight_failed",
          `bucket gs://${bucket} does not exist: create it as a regional bucket in the Vertex region, or fix spec.staging_bucket / spec.base_output_dir`,
        );
      }
      if (status === 401 || status === 403) {
        throw new DispatchError(
          "preflight_failed",
          `the dispatcher may not read the metadata of gs://${bucket} (${status}): grant its service account storage.buckets.get on the bucket (e.g. roles/storage.legacyBucketReader), or check the bucket name`,
        );
      }
      throw storageError(err, `reading the metadata of gs://${bucket}`);
    }
  };
}

/** Caches bucket metadata per instance; failures are not cached. */
export function cachedBucketInfo(
  read: BucketInfoReader,
  ttlMs: number,
  now: () => number = Date.now,
): BucketInfoReader {
  const cache = new Map<string, { info: BucketInfo; expires: number }>();
  return async (bucket) => {
    const hit = cache.get(bucket);
    if (hit && hit.expires > now()) return hit.info;
    const info = await read(bucket);
    cache.set(bucket, { info, expires: now() + ttlMs });
    return info;
  };
}

/** A bucket passes when it is a single-region bucket in the Vertex region. */
export function checkBucketRegion(
  bucket: string,
  info: BucketInfo,
  region: string,
  role: string,
): void {
  const type = info.locationType.toLowerCase();
  if (type === "region" && info.location.toLowerCase() === region.toLowerCase()) return;
  const kind =
    type === "region"
      ? "a regional bucket in another region"
      : `a ${type || "non-regional"} bucket`;
  throw new DispatchError(
    "preflight_failed",
    `${role} gs://${bucket} is in location ${info.location} (${type || "unknown location type"}), ${kind}; ` +
      `Vertex AI needs a single-region bucket in the job's region ${region}. ` +
      `Create one with: gcloud storage buckets create gs://BUCKET --location=${region}`,
  );
}

/** Checks every bucket the job uses; returns nothing, throws the first failure. */
export async function checkBuckets(
  buckets: Array<{ bucket: string; role: string }>,
  region: string,
  read: BucketInfoReader,
): Promise<void> {
  const seen = new Set<string>();
  for (const { bucket, role } of buckets) {
    if (seen.has(bucket)) continue;
    seen.add(bucket);
    checkBucketRegion(bucket, await read(bucket), region, role);
  }
}

const AR_HOST = /^([a-z0-9-]+)-docker\.pkg\.dev\//;
const GCR_HOST = /^([a-z]+\.)?gcr\.io\//;

/** Container image rules (the seed's): Google registries pass, others warn; AR in another region warns. */
export function imageWarnings(imageUris: string[], region: string): string[] {
  const warnings: string[] = [];
  for (const uri of new Set(imageUris)) {
    const ar = AR_HOST.exec(uri);
    if (ar) {
      const arRegion = ar[1] ?? "";
      // Multi-region repositories (us, europe, asia) serve every region of their continent.
      const near = ["us", "europe", "asia"].includes(arRegion)
        ? region.startsWith(`${arRegion}-`)
        : arRegion === region;
      if (!near) {
        warnings.push(
          `image ${uri} is in Artifact Registry region ${arRegion}, not ${region}: pulls cross regions (slower, egress charges)`,
        );
      }
      continue;
    }
    if (GCR_HOST.test(uri)) continue;
    warnings.push(
      `image ${uri} is not in Artifact Registry or Container Registry: Vertex AI cannot pull from private registries outside Google Cloud, so it must be public`,
    );
  }
  return warnings;
}

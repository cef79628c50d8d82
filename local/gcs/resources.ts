// The JSON resources GCS answers with (storage#bucket, storage#object, ...), built from
// the store's records. `base` is the emulator's own URL as the client reached it.
import type { StoredBucket, StoredObject } from "./store.js";

/** The project number every local project reports. */
export const PROJECT_NUMBER = "123456789012";

export function bucketResource(bucket: StoredBucket, base: string): Record<string, unknown> {
  const resource: Record<string, unknown> = {
    kind: "storage#bucket",
    selfLink: `${base}/storage/v1/b/${encodeURIComponent(bucket.name)}`,
    id: bucket.name,
    name: bucket.name,
    projectNumber: PROJECT_NUMBER,
    generation: String(bucket.generation),
    metageneration: String(bucket.metageneration),
    location: bucket.placement.location,
    locationType: bucket.placement.locationType,
    storageClass: bucket.storageClass,
    etag: etag(bucket.metageneration),
    timeCreated: bucket.timeCreated,
    updated: bucket.updated,
    rpo: "DEFAULT",
    ...bucket.echo,
  };
  if (bucket.placement.dataLocations) {
    resource.customPlacementConfig = { dataLocations: bucket.placement.dataLocations };
  }
  return resource;
}

export function objectResource(object: StoredObject, base: string): Record<string, unknown> {
  const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeURIComponent(object.name)}`;
  const resource: Record<string, unknown> = {
    kind: "storage#object",
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${base}/storage/v1/${path}`,
    mediaLink: `${base}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: String(object.generation),
    metageneration: String(object.metageneration),
    storageClass: "STANDARD",
    size: String(object.data.length),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etag(object.generation, object.metageneration),
    timeCreated: object.timeCreated,
    updated: object.updated,
    timeStorageClassUpdated: object.timeCreated,
    timeFinalized: object.timeCreated,
    ...object.fields,
  };
  if (object.metadata) resource.metadata = { ...object.metadata };
  return resource;
}

function etag(...parts: number[]): string {
  return Buffer.from(parts.join("/")).toString("base64");
}

/** buckets.getStorageLayout, which `gcloud storage rm -r` reads before deleting a bucket. */
export function storageLayout(bucket: StoredBucket): Record<string, unknown> {
  const layout: Record<string, unknown> = {
    kind: "storage#storageLayout",
    bucket: bucket.name,
    location: bucket.placement.location,
    locationType: bucket.placement.locationType,
    hierarchicalNamespace: { enabled: false },
  };
  if (bucket.placement.dataLocations) {
    layout.customPlacementConfig = { dataLocations: bucket.placement.dataLocations };
  }
  return layout;
}

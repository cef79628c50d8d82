// Maps a request's method and path to a JSON API operation and its resource names.
// Paths: /storage/v1/b/B/storageLayout, /storage/v1/b/B/managedFolders (always empty),
// /storage/v1/b[/B[/o[/NAME[/(rewriteTo|copyTo)/b/B2/o/NAME2]]]],
// /upload/storage/v1/b/B/o (POST: media, multipart, resumable start; PUT: resumable data;
// apitools starts resumable uploads on /resumable/upload/storage/v1/b/B/o),
// /download/storage/v1/b/B/o/NAME (media, the link gcloud builds).
import type { Operation } from "./control.js";

export interface Route {
  operation: Operation;
  bucket?: string;
  object?: string;
  /** For rewrite and copy. */
  destination?: { bucket: string; object: string };
  /** True for alt=media reads. */
  media?: boolean;
}

export function route(method: string, pathname: string, query: URLSearchParams): Route | null {
  const api =
    /^\/(storage|upload\/storage|resumable\/upload\/storage|download\/storage)\/v1\/b(\/.*)?$/.exec(
      pathname,
    );
  if (!api) return null;
  const kind = api[1];
  const rest = api[2] ?? "";
  const [bucketPart, objects] = splitOnce(rest.slice(1), "/o");
  const bucket = bucketPart ? decode(bucketPart) : undefined;

  if (kind === "upload/storage" || kind === "resumable/upload/storage")
    return uploadRoute(method, query, bucket, objects);
  if (kind === "download/storage") return downloadRoute(method, bucket, objects);
  if (bucket === undefined) return bucketsRoute(method);
  if (objects === undefined) return bucketRoute(method, bucketPart, bucket);
  return objectsRoute(method, query, bucket, objects);
}

/** /upload/storage/v1/b/B/o and /resumable/upload/storage/v1/b/B/o. */
function uploadRoute(
  method: string,
  query: URLSearchParams,
  bucket: string | undefined,
  objects: string | undefined,
): Route | null {
  if (!bucket || objects !== "") return null;
  if (method === "POST" && query.get("upload_id") === null)
    return { operation: "objects.insert", bucket };
  if (method === "PUT" || method === "POST") return { operation: "uploads.resumable", bucket };
  return null;
}

/** /download/storage/v1/b/B/o/NAME: a media read. */
function downloadRoute(
  method: string,
  bucket: string | undefined,
  objects: string | undefined,
): Route | null {
  if (!bucket || !objects?.startsWith("/") || method !== "GET") return null;
  return { operation: "objects.get", bucket, object: decode(objects.slice(1)), media: true };
}

/** /storage/v1/b: the bucket collection. */
function bucketsRoute(method: string): Route | null {
  if (method === "GET") return { operation: "buckets.list" };
  if (method === "POST") return { operation: "buckets.insert" };
  return null;
}

/** /storage/v1/b/B, B/storageLayout and B/managedFolders. */
function bucketRoute(method: string, bucketPart: string, bucket: string): Route | null {
  const sub = /^([^/]+)\/(storageLayout|managedFolders)$/.exec(bucketPart);
  if (sub && method === "GET") {
    const operation =
      sub[2] === "storageLayout" ? "buckets.getStorageLayout" : "managedFolders.list";
    return { operation, bucket: decode(sub[1] ?? "") };
  }
  if (bucketPart.includes("/")) return null;
  if (method === "GET") return { operation: "buckets.get", bucket };
  if (method === "PATCH" || method === "PUT") return { operation: "buckets.patch", bucket };
  if (method === "DELETE") return { operation: "buckets.delete", bucket };
  return null;
}

/** /storage/v1/b/B/o[/NAME[/(rewriteTo|copyTo)/b/B2/o/NAME2]]. */
function objectsRoute(
  method: string,
  query: URLSearchParams,
  bucket: string,
  objects: string,
): Route | null {
  if (objects === "") {
    if (method === "GET") return { operation: "objects.list", bucket };
    if (method === "POST") return { operation: "objects.insert", bucket };
    return null;
  }
  if (!objects.startsWith("/")) return null;
  const copy = /^\/(.+)\/(rewriteTo|copyTo)\/b\/([^/]+)\/o\/(.+)$/.exec(objects);
  if (copy) {
    if (method !== "POST") return null;
    const destination = { bucket: decode(copy[3] ?? ""), object: decode(copy[4] ?? "") };
    const operation = copy[2] === "rewriteTo" ? "objects.rewrite" : "objects.copy";
    return { operation, bucket, object: decode(copy[1] ?? ""), destination };
  }
  const object = decode(objects.slice(1));
  if (method === "GET")
    return { operation: "objects.get", bucket, object, media: query.get("alt") === "media" };
  if (method === "PATCH") return { operation: "objects.patch", bucket, object };
  if (method === "PUT") return { operation: "objects.update", bucket, object };
  if (method === "DELETE") return { operation: "objects.delete", bucket, object };
  return null;
}

/** "B/o/x" → ["B", "/x"]; "B/o" → ["B", ""]; "B" → ["B", undefined]. */
function splitOnce(path: string, marker: string): [string, string | undefined] {
  const slash = path.indexOf("/");
  if (slash < 0) return [path, undefined];
  const head = path.slice(0, slash);
  const tail = path.slice(slash);
  if (tail === marker) return [head, ""];
  if (tail.startsWith(`${marker}/`)) return [head, tail.slice(marker.length)];
  return [path, undefined];
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

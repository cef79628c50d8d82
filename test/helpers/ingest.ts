// The ingest function under test: its own Functions Framework process (as Cloud Run
// functions runs it) publishing to Google's Pub/Sub emulator, plus raw HTTP helpers for
// requests fetch cannot make (a body sent slowly, a head without its body).
import { request } from "node:http";
import type { PubSub } from "@google-cloud/pubsub";
import { type PulledMessage, pullMessages } from "../../local/pubsub/index.js";
import { type LocalFunction, startFunction } from "../../local/stack/functions.js";

export interface IngestProcess {
  fn: LocalFunction;
  url: string;
  lines: string[];
}

export async function startIngest(env: Record<string, string>): Promise<IngestProcess> {
  const lines: string[] = [];
  const fn = await startFunction({
    name: "ingest",
    source: "functions/ingest/index.ts",
    port: 0,
    signatureType: "http",
    env: { PATH: process.env.PATH, METADATA_SERVER_DETECTION: "none", ...env },
    onLine: (line) => lines.push(line),
  });
  return { fn, url: fn.url, lines };
}

export interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
  headers: Headers;
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  method = "POST",
): Promise<Reply> {
  const init: RequestInit = { method, headers };
  if (method !== "GET" && method !== "HEAD") init.body = body;
  const res = await fetch(url, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // left empty: the test asserts on text
  }
  return { status: res.status, text, json, headers: res.headers };
}

/**
 * Sends the head, then body chunks one at a time while no answer has come, until the
 * answer arrives or `maxChunks` were sent. Resolves with the status and how many body
 * bytes had been written when the answer came.
 */
export function sendUntilAnswered(
  url: string,
  headers: Record<string, string>,
  chunk: Buffer,
  maxChunks: number,
): Promise<{ status: number; bytesSent: number; body: string }> {
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    let answered = false;
    const req = request(url, { method: "POST", headers });
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, bytesSent, body });
        req.destroy();
      });
    });
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    let sent = 0;
    const pump = () => {
      if (answered || req.destroyed) return;
      if (sent >= maxChunks) {
        reject(new Error(`no answer after ${sent} chunks (${bytesSent} bytes)`));
        req.destroy();
        return;
      }
      sent++;
      bytesSent += chunk.length;
      req.write(chunk, () => setTimeout(pump, 5));
    };
    pump();
  });
}

/** Pulls until a message whose body contains `marker` arrives; returns every message pulled. */
export async function pullThrough(
  client: PubSub,
  subscription: string,
  marker: string,
  timeoutMs = 20_000,
): Promise<PulledMessage[]> {
  const out: PulledMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!out.some((m) => m.data.toString("utf8").includes(marker))) {
    if (Date.now() > deadline) {
      throw new Error(
        `no message containing ${marker} on ${subscription} within ${timeoutMs} ms; got ${out.length} others`,
      );
    }
    out.push(...(await pullMessages(client, subscription, { min: 1, timeoutMs: 1000 })));
  }
  return out;
}

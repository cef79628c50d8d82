// The two checks on who sent a webhook (SPEC §8), both constant-time.
//
// Invariants: every request makes exactly one `equal` call on two 32-byte buffers per
// check, whatever it sent (nothing, a wrong value, a value of another length, garbage),
// so the time taken never depends on how much of a secret a guess got right; and the
// outcome names what was wrong with the header, never any part of a secret.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Compares two equal-length buffers in constant time (crypto.timingSafeEqual; injectable for tests). */
export type Equal = (a: Buffer, b: Buffer) => boolean;

export type CheckResult = { ok: true } | { ok: false; problem: "missing" | "malformed" | "wrong" };

// Tokens are compared as HMACs under a key made once per instance: equal lengths whatever
// the caller sent, and no guessable relation between a guess and the digest compared.
const TOKEN_KEY = randomBytes(32);
const digestToken = (token: string) => createHmac("sha256", TOKEN_KEY).update(token).digest();

/** `Authorization: Bearer <token>` against the configured token. */
export function checkBearer(
  header: string | undefined,
  expected: string,
  equal: Equal = timingSafeEqual,
): CheckResult {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = match?.[1] ?? "";
  const same = equal(digestToken(given), digestToken(expected));
  if (header === undefined || header.trim() === "") return { ok: false, problem: "missing" };
  if (!match) return { ok: false, problem: "malformed" };
  return same ? { ok: true } : { ok: false, problem: "wrong" };
}

const HEX_DIGEST = /^[0-9a-f]{64}$/i;
// 32 bytes in base64 (standard or URL-safe alphabet), with or without the one '='.
const BASE64_DIGEST = /^[A-Za-z0-9+/_-]{43}=?$/;

/**
 * The 32 bytes an `X-Wandb-Signature` value carries, or null. W&B documents the value as
 * base64 of the binary HMAC-SHA256 of the raw body (its webhook_test.sh:
 * `openssl dgst -sha256 -hmac "$SECRET" -binary | base64`); hex, the other common form,
 * and a `sha256=` prefix are accepted too.
 */
export function decodeSignature(value: string): Buffer | null {
  const bare = value.trim().replace(/^sha256=/i, "");
  if (HEX_DIGEST.test(bare)) return Buffer.from(bare, "hex");
  if (BASE64_DIGEST.test(bare)) {
    const bytes = Buffer.from(bare.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    return bytes.length === 32 ? bytes : null;
  }
  return null;
}

/** `X-Wandb-Signature` against HMAC-SHA256(secret, raw body). */
export function checkSignature(
  header: string | undefined,
  body: Buffer,
  secret: string,
  equal: Equal = timingSafeEqual,
): CheckResult {
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = header === undefined ? null : decodeSignature(header);
  // A missing or undecodable value is compared too (against zeros), so it costs the same.
  const same = equal(given ?? Buffer.alloc(32), expected);
  if (header === undefined || header.trim() === "") return { ok: false, problem: "missing" };
  if (given === null) return { ok: false, problem: "malformed" };
  return same ? { ok: true } : { ok: false, problem: "wrong" };
}

/** The signature W&B sends for `body` (base64), for tests and the README's curl line. */
export function signBody(body: Buffer | string, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

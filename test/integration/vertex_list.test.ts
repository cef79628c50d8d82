// ListCustomJobs on the Vertex emulator: the filter grammar, paging with page tokens, and
// scoping by project and location.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startVertexEmulator, type VertexEmulator } from "../../local/vertex/index.js";
import { PARENT, rest, restError, validJob } from "../helpers/vertex.js";

let emulator: VertexEmulator;
const names: Record<string, string> = {};
let middleTime = "";

async function list(query: Record<string, string | number>, parent = PARENT) {
  const params = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  );
  return rest(emulator, "GET", `/v1/${parent}/customJobs?${params}`);
}

async function displayNames(filter: string): Promise<string[]> {
  const answer = await list({ filter });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const jobs = (answer.body.customJobs as Array<{ displayName: string }> | undefined) ?? [];
  return jobs.map((j) => j.displayName).sort();
}

before(async () => {
  emulator = await startVertexEmulator({ grpcPort: 0, restPort: 0, clock: { mode: "manual" } });
  const specs: Array<[string, Record<string, string>]> = [
    ["alpha", { team: "ml", tier: "gold" }],
    ["beta", { team: "ml" }],
    ["gamma", { team: "data", tier: "gold" }],
    ["delta", {}],
  ];
  for (const [i, [displayName, labels]] of specs.entries()) {
    const answer = await rest(
      emulator,
      "POST",
      `/v1/${PARENT}/customJobs`,
      validJob({ displayName, labels }),
    );
    names[displayName] = String(answer.body.name);
    if (i === 1) {
      await new Promise((r) => setTimeout(r, 20));
      middleTime = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // alpha runs, beta succeeds, gamma is cancelled, delta stays queued
  emulator.control.advance({ job: names.alpha, steps: 2 });
  emulator.control.advance({ job: names.beta, steps: 3 });
  await rest(emulator, "POST", `/v1/${names.gamma}:cancel`, {});
  emulator.control.advance({ job: names.gamma });
  // a job elsewhere must never show up
  await rest(
    emulator,
    "POST",
    "/v1/projects/other-project/locations/us-central1/customJobs",
    validJob(),
  );
  await rest(
    emulator,
    "POST",
    "/v1/projects/local-project/locations/europe-west4/customJobs",
    validJob(),
  );
});

after(() => emulator.close());

describe("filters", () => {
  const cases: Array<[string, string[]]> = [
    ["", ["alpha", "beta", "delta", "gamma"]],
    ["labels.team=ml", ["alpha", "beta"]],
    ['labels.team="ml"', ["alpha", "beta"]],
    ["labels.team!=ml", ["delta", "gamma"]],
    ["labels.tier:*", ["alpha", "gamma"]],
    ["labels:tier", ["alpha", "gamma"]],
    ["labels.team:data", ["gamma"]],
    ["state=JOB_STATE_RUNNING", ["alpha"]],
    ['state="JOB_STATE_SUCCEEDED"', ["beta"]],
    ["state!=JOB_STATE_CANCELLED", ["alpha", "beta", "delta"]],
    ['display_name="beta"', ["beta"]],
    ["displayName=beta", ["beta"]],
    ['display_name:"*lph*"', ["alpha"]],
    ['display_name!="beta"', ["alpha", "delta", "gamma"]],
    ["labels.team=ml AND labels.tier=gold", ["alpha"]],
    ["labels.team=ml labels.tier=gold", ["alpha"]],
    ["labels.team=data OR state=JOB_STATE_QUEUED", ["delta", "gamma"]],
    ["NOT labels.team=ml", ["delta", "gamma"]],
    ["-labels.team=ml", ["delta", "gamma"]],
    ["(labels.team=ml OR labels.team=data) AND NOT state=JOB_STATE_CANCELLED", ["alpha", "beta"]],
    // OR binds tighter than AND (AIP-160)
    ["labels.tier=gold AND labels.team=data OR labels.team=ml", ["alpha", "gamma"]],
  ];
  for (const [filter, expected] of cases) {
    test(`"${filter}"`, async () => {
      assert.deepEqual(await displayNames(filter), expected);
    });
  }

  test("the product's own filters: hyphenated label keys, a chain of state!=, a long OR of labels", async () => {
    // The poll function's filters, as shared/poll/poll.ts builds them.
    const notFinal = [
      "JOB_STATE_SUCCEEDED",
      "JOB_STATE_FAILED",
      "JOB_STATE_CANCELLED",
      "JOB_STATE_EXPIRED",
      "JOB_STATE_PARTIALLY_SUCCEEDED",
    ]
      .map((state) => `state!="${state}"`)
      .join(" AND ");
    assert.deepEqual(await displayNames(`labels.tier="gold" AND ${notFinal}`), ["alpha"]);
    const ors = Array.from({ length: 49 }, (_, i) => `labels.team="nobody-${i}"`);
    ors.push('labels.team="data"');
    assert.deepEqual(await displayNames(`labels.tier="gold" AND (${ors.join(" OR ")})`), ["gamma"]);
    // Hyphenated label keys, on an emulator of their own (the shared one's jobs are fixed).
    const own = await startVertexEmulator({ grpcPort: 0, restPort: 0, clock: { mode: "manual" } });
    try {
      const labels = { "managed-by": "vertex-dispatch", "launch-id": "abc123" };
      const made = await rest(
        own,
        "POST",
        `/v1/${PARENT}/customJobs`,
        validJob({ displayName: "hyphen", labels }),
      );
      assert.equal(made.status, 200, JSON.stringify(made.body));
      await rest(own, "POST", `/v1/${PARENT}/customJobs`, validJob({ displayName: "other" }));
      const filter = 'labels.managed-by="vertex-dispatch" AND labels.launch-id="abc123"';
      const answer = await rest(
        own,
        "GET",
        `/v1/${PARENT}/customJobs?${new URLSearchParams({ filter })}`,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const found = (answer.body.customJobs as Array<{ displayName: string }>).map(
        (j) => j.displayName,
      );
      assert.deepEqual(found, ["hyphen"]);
    } finally {
      await own.close();
    }
  });

  test("create_time comparisons", async () => {
    assert.deepEqual(await displayNames(`create_time>"${middleTime}"`), ["delta", "gamma"]);
    assert.deepEqual(await displayNames(`create_time<"${middleTime}"`), ["alpha", "beta"]);
    assert.deepEqual(
      await displayNames(
        `create_time>="2000-01-01T00:00:00Z" AND create_time<="2999-01-01T00:00:00+01:00"`,
      ),
      ["alpha", "beta", "delta", "gamma"],
    );
  });

  for (const bad of [
    "labels.team=",
    "state=RUNNING",
    "state>JOB_STATE_RUNNING",
    'create_time>"yesterday"',
    "owner=me",
    "(labels.team=ml",
    "labels.team=ml AND",
    'display_name="unterminated',
    "display_name>b",
  ]) {
    test(`bad filter ${JSON.stringify(bad)} is INVALID_ARGUMENT`, async () => {
      const answer = await list({ filter: bad });
      assert.equal(answer.status, 400);
      assert.equal(restError(answer).status, "INVALID_ARGUMENT");
      assert.match(restError(answer).message, /^Invalid filter/);
    });
  }
});

describe("paging", () => {
  test("newest first, page tokens until the end, no duplicates", async () => {
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const answer = await list(token ? { pageSize: 3, pageToken: token } : { pageSize: 3 });
      const jobs = answer.body.customJobs as Array<{ displayName: string }>;
      seen.push(...jobs.map((j) => j.displayName));
      token = String(answer.body.nextPageToken ?? "");
      pages++;
    } while (token);
    assert.equal(pages, 2);
    assert.deepEqual(seen, ["delta", "gamma", "beta", "alpha"]);
  });

  test("a page token works with its own filter only; bad tokens and sizes are INVALID_ARGUMENT", async () => {
    const first = await list({ pageSize: 1, filter: "labels.team=ml" });
    assert.equal((first.body.customJobs as unknown[]).length, 1);
    const token = String(first.body.nextPageToken);
    const second = await list({ pageSize: 1, filter: "labels.team=ml", pageToken: token });
    assert.equal(
      (second.body.customJobs as Array<{ displayName: string }>)[0]?.displayName,
      "alpha",
    );
    assert.equal(second.body.nextPageToken, undefined);
    const mismatched = await list({ pageSize: 1, pageToken: token });
    assert.equal(restError(mismatched).status, "INVALID_ARGUMENT");
    assert.equal(restError(await list({ pageToken: "garbage" })).status, "INVALID_ARGUMENT");
    assert.equal(restError(await list({ pageSize: -1 })).status, "INVALID_ARGUMENT");
  });

  test("an empty result has no customJobs field and no token", async () => {
    const answer = await list({ filter: "labels.team=nobody" });
    assert.deepEqual(answer.body, {});
  });

  test("the list is scoped to project and location; project ID and number are the same project", async () => {
    const number = String(names.alpha).split("/")[1];
    const byNumber = await list({}, `projects/${number}/locations/us-central1`);
    assert.equal((byNumber.body.customJobs as unknown[]).length, 4);
    const europe = await list({}, "projects/local-project/locations/europe-west4");
    assert.equal((europe.body.customJobs as unknown[]).length, 1);
  });
});

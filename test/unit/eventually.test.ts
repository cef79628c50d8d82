import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventually } from "../helpers/eventually.js";

describe("eventually", () => {
  it("returns the first value the check accepts", async () => {
    let n = 0;
    const got = await eventually(() => (++n >= 3 ? n : undefined), {
      timeout: 5_000,
      what: "n >= 3",
      every: 1,
    });
    assert.equal(got, 3);
  });

  it("fails saying what it waited for and what it saw last", async () => {
    await assert.rejects(
      eventually(() => 7, {
        timeout: 30,
        what: "seven to become eight",
        until: (v) => v === 8,
        every: 5,
      }),
      /waited 30 ms for seven to become eight; last seen: 7/,
    );
  });

  it("keeps checking through a check that throws, and reports the error", async () => {
    await assert.rejects(
      eventually(
        () => {
          throw new Error("not yet");
        },
        { timeout: 20, what: "a record", every: 5 },
      ),
      /last seen: "threw not yet"/,
    );
  });
});

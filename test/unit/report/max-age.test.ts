// --max-age: how old the newest backup of each type may be before status warns.
import { describe, expect, it } from "vitest";
import { parseMaxAge } from "../../../job/report/max-age";

describe("parseMaxAge", () => {
  it("takes type=<n><unit> pairs and refuses anything else", () => {
    expect(parseMaxAge("daily=26h,monthly=32d")).toEqual([
      { type: "daily", maxMs: 26 * 3_600_000, spec: "26h" },
      { type: "monthly", maxMs: 32 * 86_400_000, spec: "32d" },
    ]);
    for (const bad of ["weekly=1d", "daily=26", "daily=-1h", "", "daily=0h"]) expect(() => parseMaxAge(bad), bad).toThrow(/--max-age/);
  });
});

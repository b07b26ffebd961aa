import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbBackupError } from "../../../job/core/errors";
import { MAX_ID_LENGTH, newBackupId, timeFromId, timestampPart, validateBackupId } from "../../../job/core/ids";

// Run the time tests in a zone far from UTC, so local-time code would show.
let savedTz: string | undefined;
beforeAll(() => {
  savedTz = process.env.TZ;
  process.env.TZ = "Pacific/Kiritimati"; // UTC+14
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe("timestampPart", () => {
  it("formats YYYYMMDD_HHMMSS in UTC", () => {
    expect(timestampPart(new Date("2025-06-07T12:00:00Z"))).toBe("20250607_120000");
  });

  it("uses UTC even where the local date is already the next day", () => {
    const d = new Date("2025-12-31T23:59:59Z");
    expect(d.getDate()).toBe(1); // sanity: the local zone really is ahead
    expect(timestampPart(d)).toBe("20251231_235959");
  });

  it("zero-pads every field", () => {
    expect(timestampPart(new Date("2025-01-02T03:04:05Z"))).toBe("20250102_030405");
    expect(timestampPart(new Date("0999-01-01T00:00:00Z"))).toBe("09990101_000000");
  });

  it("ignores milliseconds", () => {
    expect(timestampPart(new Date("2025-06-07T12:00:00.999Z"))).toBe("20250607_120000");
  });

  it("sorts like time", () => {
    const times = ["2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z", "2025-01-01T00:00:09Z", "2025-01-01T00:00:10Z", "2025-10-01T00:00:00Z"];
    const parts = times.map((t) => timestampPart(new Date(t)));
    expect([...parts].sort()).toEqual(parts);
  });
});

describe("newBackupId", () => {
  const now = new Date("2025-06-07T12:00:00Z");

  it("is <name>_YYYYMMDD_HHMMSS when free", async () => {
    expect(await newBackupId("backup", now, async () => false)).toBe("backup_20250607_120000");
    expect(await newBackupId("pmoves", now, async () => false)).toBe("pmoves_20250607_120000");
  });

  it("adds _2, then _3, when ids of the same second are taken", async () => {
    const taken = new Set(["backup_20250607_120000"]);
    expect(await newBackupId("backup", now, async (id) => taken.has(id))).toBe("backup_20250607_120000_2");
    taken.add("backup_20250607_120000_2");
    expect(await newBackupId("backup", now, async (id) => taken.has(id))).toBe("backup_20250607_120000_3");
  });

  it("asks about the ids in order and stops at the first free one", async () => {
    const asked: string[] = [];
    const taken = new Set(["b_20250607_120000", "b_20250607_120000_2"]);
    await newBackupId("b", now, async (id) => (asked.push(id), taken.has(id)));
    expect(asked).toEqual(["b_20250607_120000", "b_20250607_120000_2", "b_20250607_120000_3"]);
  });

  it("produces ids that pass validateBackupId and whose time reads back", async () => {
    const id = await newBackupId("backup", now, async (i) => i === "backup_20250607_120000");
    expect(validateBackupId(id)).toBe(id);
    expect(timeFromId(id)?.toISOString()).toBe("2025-06-07T12:00:00.000Z");
  });

  it("fails rather than loop forever when every id is taken", async () => {
    await expect(newBackupId("backup", now, async () => true)).rejects.toThrow(/backup_20250607_120000/);
  });
});

describe("validateBackupId", () => {
  it.each(["backup_20250607_120000", "pmoves_20250607_120000", "before_v2_schema", "backup_20250607_120000_2", "A-1", "x"])(
    "accepts %j",
    (id) => {
      expect(validateBackupId(id)).toBe(id);
    },
  );

  it(`accepts exactly ${MAX_ID_LENGTH} characters and refuses ${MAX_ID_LENGTH + 1}`, () => {
    expect(MAX_ID_LENGTH).toBe(128);
    const ok = "a".repeat(128);
    expect(validateBackupId(ok)).toBe(ok);
    expect(() => validateBackupId("a".repeat(129))).toThrow(/129|128|long/);
  });

  const refused: [string, string, RegExp][] = [
    ["empty", "", /empty/],
    ["too long", "b".repeat(500), /long|128/],
    ["NUL", "backup\u0000x", /control/],
    ["newline", "backup_20250607\n120000", /control/],
    ["DEL", "backup\u007f", /control/],
    ["tab", "a\tb", /control/],
    ["dot-dot", "..", /\.\./],
    ["dot-dot inside", "a..b", /\.\./],
    ["parent path", "../etc/passwd", /\.\.|separator/],
    ["slash", "daily/backup_1", /separator/],
    ["leading slash", "/backup", /separator/],
    ["backslash", "a\\b", /separator/],
    ["space", "backup 2025", /not valid|letters, digits/],
    ["double quote", 'a"b', /not valid|letters, digits/],
    ["single quote", "a'b", /not valid|letters, digits/],
    ["semicolon", "a;rm", /not valid|letters, digits/],
    ["leading dash", "-rf", /not valid|letters, digits/],
    ["leading dot", ".hidden", /not valid|letters, digits/],
    ["unicode", "bäckup", /not valid|letters, digits/],
  ];

  it.each(refused)("refuses %s with a usage error naming the problem", (_label, id, message) => {
    let caught: unknown;
    try {
      validateBackupId(id);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DbBackupError);
    const e = caught as DbBackupError;
    expect(e.kind).toBe("usage");
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain("\n"); // one line, even for an id containing a newline
  });

  it("names what was checked (the `what` argument)", () => {
    expect(() => validateBackupId("a/b", "tag")).toThrow(/^tag /);
  });
});

describe("timeFromId", () => {
  it("reads the UTC time of seed-style ids", () => {
    expect(timeFromId("pmoves_20250607_120000")?.toISOString()).toBe("2025-06-07T12:00:00.000Z");
    expect(timeFromId("backup_20250102_030405")?.toISOString()).toBe("2025-01-02T03:04:05.000Z");
  });

  it("reads through a same-second suffix", () => {
    expect(timeFromId("backup_20250607_120000_3")?.toISOString()).toBe("2025-06-07T12:00:00.000Z");
  });

  it("is the inverse of timestampPart", () => {
    const d = new Date("2031-11-30T22:45:17Z");
    expect(timeFromId(`x_${timestampPart(d)}`)?.getTime()).toBe(d.getTime());
  });

  it.each(["before_v2_schema", "pmoves_202505", "backup_20250607", "backup_20250607_1200", "20250607_120000x", ""])(
    "is null for %j (no full timestamp)",
    (id) => {
      expect(timeFromId(id)).toBeNull();
    },
  );

  it.each(["pmoves_20251399_000000", "pmoves_20250231_000000", "pmoves_20250607_250000", "pmoves_20250607_126000"])(
    "is null for %j (an impossible date, not a rolled-over one)",
    (id) => {
      expect(timeFromId(id)).toBeNull();
    },
  );
});

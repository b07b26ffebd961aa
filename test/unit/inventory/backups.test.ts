// Two production restores of one store in the same second each get their own safety tag.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unusedTag } from "../../../job/inventory/backups";
import { serializeManifest } from "../../../job/inventory/manifest";
import { LocalDirectoryRepository } from "../../../job/store/local";
import { sampleManifest } from "../../helpers/manifests";

async function repoWith(tags: { id: string; tag: string; status?: "completed" | "failed" }[]) {
  const repo = new LocalDirectoryRepository(await fs.mkdtemp(path.join(os.tmpdir(), "dbb-tag-")));
  for (const { id, tag, status = "completed" } of tags) {
    const key = `supabase/pre_migration/${id}.sql.gz`;
    await repo.putBytes(key, "dump");
    await repo.putBytes(`supabase/pre_migration/${id}.manifest.json`, serializeManifest(sampleManifest({ id, type: "pre_migration", tag, key, status })));
  }
  return repo;
}

describe("unusedTag", () => {
  it("keeps the base when nothing carries it", async () => {
    expect(await unusedTag(await repoWith([]), "supabase", "pre_restore_20250607_120000")).toBe("pre_restore_20250607_120000");
  });

  it("adds _2, _3 … past the tags completed backups carry", async () => {
    const repo = await repoWith([
      { id: "backup_20250607_120000", tag: "pre_restore_20250607_120000" },
      { id: "backup_20250607_120000_2", tag: "pre_restore_20250607_120000_2" },
    ]);
    expect(await unusedTag(repo, "supabase", "pre_restore_20250607_120000")).toBe("pre_restore_20250607_120000_3");
  });

  it("ignores the tag of a failed backup (it holds no dump to restore)", async () => {
    const repo = await repoWith([{ id: "backup_20250607_120000", tag: "pre_restore_x", status: "failed" }]);
    expect(await unusedTag(repo, "supabase", "pre_restore_x")).toBe("pre_restore_x");
  });
});

// When a JetStream stream binds the subject, the completed event goes through JetStream with the
// backup id as message id (a redelivery is then not a duplicate) and the job waits for the ack.
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_SUBJECT_WILDCARD } from "../../job/core/catalog";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { baseEnv, runCli } from "../helpers/cli";
import { createDatabase, dropDatabase, uniqueName, sql } from "../helpers/pg";
import { requireServices, services } from "../helpers/services";

const source = uniqueName("dbb_js");
const stream = `DBB_TEST_${process.pid}`;
let dir: string;

beforeAll(async () => {
  await requireServices("postgres", "nats");
  await createDatabase(source);
  await sql(source, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
  dir = `/tmp/${uniqueName("dbb-js")}`;
});

afterAll(async () => {
  await dropDatabase(source);
  const nc = await connect({ servers: services.natsUrl });
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
  await nc.drain();
});

describe("JetStream", () => {
  it("publishes through the stream with the backup id as message id", async () => {
    const nc = await connect({ servers: services.natsUrl });
    const jsm = await jetstreamManager(nc);
    // Only one stream may bind a subject: reuse one a previous run left, else make ours.
    const existing = await jsm.streams.find(EVENT_SUBJECT_WILDCARD).catch(() => null);
    const name = existing ?? (await jsm.streams.add({ name: stream, subjects: [EVENT_SUBJECT_WILDCARD], duplicate_window: 120_000_000_000 })).config.name;
    const before = (await jsm.streams.info(name)).state.last_seq;

    const env = baseEnv({ SUPABASE_DB_URL: `postgres://postgres@127.0.0.1:5432/${source}`, BACKUP_DIR: dir, NATS_URL: services.natsUrl });
    const result = await runCli(["create", "--json"], env);
    expect(result.code).toBe(0);
    const manifest = BackupManifestSchema.parse(JSON.parse(result.stdout));
    expect(manifest.notification).toMatchObject({ delivered: true, via: "jetstream", subject: "backup.database.completed.v1" });

    const messages = [];
    for (let seq = before + 1; seq <= (await jsm.streams.info(name)).state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(name, { seq });
      if (m) messages.push({ subject: m.subject, id: m.header?.get("Nats-Msg-Id"), data: m.json<{ id: string }>() });
    }
    const ours = messages.filter((m) => m.data.id === manifest.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ subject: "backup.database.completed.v1", id: manifest.id });
    await nc.drain();
  });
});

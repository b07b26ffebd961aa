// NATS dying during a backup never fails or loses the backup: the run succeeds, says the event was
// not delivered (stderr and manifest); once NATS is back the next run's event arrives through
// JetStream, and publishing an event again with the same message id is not a second event.
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { promises as fs } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_SUBJECT_WILDCARD } from "../../job/core/catalog";
import { natsPublisher } from "../../job/events/nats";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { Redactor } from "../../job/core/redact";
import { baseEnv, runCli, startCli, type RunningCli } from "../helpers/cli";
import { startNats, tempDir, type NatsServer } from "../helpers/fault-servers";
import { createDatabase, dbUrl, dropDatabase, sql, uniqueName } from "../helpers/pg";
import { killTree, waitForChild } from "../helpers/processes";
import { requireServices } from "../helpers/services";

const source = uniqueName("dbb_fault_nats");
const STREAM = "DBB_FAULT_EVENTS";
let nats: NatsServer;
let env: Record<string, string>;
let backupDir: string;
const running: RunningCli[] = [];

async function streamMessages(url: string): Promise<{ seq: number; subject: string; msgId: string | undefined; data: Record<string, unknown> }[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM);
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(STREAM, { seq });
      if (m) out.push({ seq, subject: m.subject, msgId: m.header?.get("Nats-Msg-Id"), data: m.json<Record<string, unknown>>() });
    }
    return out;
  } finally {
    await nc.drain();
  }
}

beforeAll(async () => {
  await requireServices("postgres");
  await createDatabase(source);
  await sql(source, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
  nats = await startNats();
  const nc = await connect({ servers: nats.url });
  await (await jetstreamManager(nc)).streams.add({ name: STREAM, subjects: [EVENT_SUBJECT_WILDCARD], duplicate_window: 120_000_000_000 });
  await nc.drain();
  backupDir = await tempDir("dbb-fault-nats-");
  env = baseEnv({ SUPABASE_DB_URL: dbUrl(source), BACKUP_DIR: backupDir, NATS_URL: nats.url });
});

afterAll(async () => {
  for (const r of running) killTree(r.pid);
  await nats?.dispose();
  await dropDatabase(source);
  if (backupDir) await fs.rm(backupDir, { recursive: true, force: true });
});

describe("NATS", () => {
  it("down during a backup: the backup succeeds and says the event was not delivered; restarted, the next event arrives once", async () => {
    // The run waits on a table lock, so NATS dies while it is dumping.
    const blocker = new pg.Client({ connectionString: dbUrl(source) });
    await blocker.connect();
    let result;
    try {
      await blocker.query("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
      const run = startCli(["create", "--json"], env);
      running.push(run);
      await waitForChild(run, "pg_dump", "--dbname");
      await nats.kill();
      await blocker.query("COMMIT");
      result = await run.done;
    } finally {
      await blocker.end();
    }
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^warning: event backup\.database\.completed\.v1 was not delivered: .+$/m);
    const lost = BackupManifestSchema.parse(JSON.parse(result.stdout));
    expect(lost.status).toBe("completed");
    expect(lost.notification).toMatchObject({ delivered: false, via: "none", subject: "backup.database.completed.v1" });

    nats = await nats.restart(); // same store: the stream survives
    const next = await runCli(["create", "--json"], env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toMatch(/warning/);
    const delivered = BackupManifestSchema.parse(JSON.parse(next.stdout));
    expect(delivered.notification).toMatchObject({ delivered: true, via: "jetstream" });
    let messages = await streamMessages(nats.url);
    expect(messages.filter((m) => m.data.id === delivered.id)).toEqual([
      expect.objectContaining({ subject: "backup.database.completed.v1", msgId: delivered.id }),
    ]);
    expect(messages.some((m) => m.data.id === lost.id)).toBe(false);

    // A redelivery (the job retrying after a lost ack, or publishing the same event again) carries
    // the same message id: the stream keeps one copy.
    const publisher = natsPublisher(nats.url, { redactor: new Redactor() });
    const again = await publisher.publish("completed", { backup: delivered.id, id: delivered.id, redelivered: true }, delivered.id);
    await publisher.close();
    expect(again).toMatchObject({ delivered: true, via: "jetstream" });
    messages = await streamMessages(nats.url);
    expect(messages.filter((m) => m.data.id === delivered.id)).toHaveLength(1);
    expect(messages.find((m) => m.data.id === delivered.id)!.data.redelivered).toBeUndefined();
  });

  it("down from the start: a failing backup still fails with its own reason, and the event loss is said", async () => {
    await nats.kill();
    try {
      // A pattern (exact names are refused before pg_dump runs): pg_dump itself fails on it.
      const result = await runCli(["create", "--table", "public.no_such_*"], env);
      expect(result.code).toBe(1);
      const errors = result.stderr.split("\n").filter((l) => l.startsWith("error"));
      expect(errors).toEqual([expect.stringMatching(/pg_dump failed.*no matching tables/)]);
      expect(result.stderr).toMatch(/^warning: event backup\.database\.failed\.v1 was not delivered/m);
    } finally {
      nats = await nats.restart();
    }
  });
});

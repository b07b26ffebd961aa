// `restore --jobs N` of a custom archive: pg_restore in several sessions, which cannot be one
// transaction, so it goes only into an empty target (no table, view, sequence, function, type or
// large object outside the system schemas and extensions). When it fails, or the job is stopped,
// the job drops what it created (the schemas and extensions that were not there, every object in
// the schemas that were, those schemas' privileges and comments put back) and checks the target is
// as it was. pg_restore dies with the job (postgres/process.ts); after a SIGKILL of the job the
// target keeps what was restored so far, and the next restore refuses it as not empty.
import type pg from "pg";
import { failure, oneLine, refusal } from "../core/errors";
import type { Redactor } from "../core/redact";
import { connectPg, type PgConnection } from "../postgres/connection";
import { startProcess } from "../postgres/process";
import { quoteLiteral } from "../postgres/sql";

export interface ParallelRestoreInput {
  archive: string;
  targetUrl: string;
  target: PgConnection;
  redactor: Redactor;
  jobs: number;
  noOwner: boolean;
  signal?: AbortSignal;
}

export async function restoreParallel(input: ParallelRestoreInput): Promise<void> {
  const args = ["--exit-on-error", "--no-password", `--dbname=${input.target.conninfo}`, `--jobs=${input.jobs}`];
  if (input.noOwner) args.push("--no-owner");
  args.push(input.archive);
  const before = await withClient(input.targetUrl, targetState);
  if (before.occupied > 0) {
    throw refusal(
      `a parallel restore (--jobs ${input.jobs}) runs outside one transaction, so it only goes into an empty database, and ${input.target.display} holds ${before.occupied} object(s): restore with --jobs 1 (one transaction) or into an empty database`,
    );
  }
  const restore = startProcess("pg_restore", args, { env: input.target.env, stdio: ["ignore", "ignore", "pipe"], redactor: input.redactor, label: "pg_restore" });
  const stop = () => restore.kill();
  input.signal?.addEventListener("abort", stop, { once: true });
  try {
    await restore.exited;
  } catch (error) {
    const reason = input.signal?.aborted ? "the parallel restore was stopped" : oneLine(error);
    try {
      await withClient(input.targetUrl, async (client) => {
        await client.query("BEGIN");
        await client.query(cleanupSql(before));
        await client.query("COMMIT");
      });
      const after = await withClient(input.targetUrl, targetState);
      if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error("objects remain after the cleanup");
    } catch (cleanupError) {
      throw failure(`${reason}; dropping what the parallel restore created failed too (${oneLine(cleanupError)}): ${input.target.display} is NOT as it was`, cleanupError);
    }
    throw failure(`${reason}; the parallel restore's objects were dropped, ${input.target.display} is as it was`, error);
  } finally {
    input.signal?.removeEventListener("abort", stop);
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPg(url, { options: "-c client_min_messages=warning" });
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The parts of a database a restore can add to, compared before and after a cleanup. */
interface TargetState {
  /** Tables, views, sequences, routines, types and large objects outside system schemas and extensions. */
  occupied: number;
  schemas: { name: string; acl: string[]; comment: string | null; owner: string }[];
  extensions: string[];
  publications: string[];
  eventTriggers: string[];
}

const USER_NAMESPACE = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";
const NOT_EXTENSION_MEMBER = (cls: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
const USER_RELATIONS = `SELECT c.oid, c.relkind, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE ${USER_NAMESPACE} AND c.relkind IN ('r','p','v','m','S','f','c') AND ${NOT_EXTENSION_MEMBER("pg_class", "c.oid")}`;
const USER_ROUTINES = `SELECT p.oid, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER("pg_proc", "p.oid")}`;
const USER_TYPES = `SELECT t.oid, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE ${USER_NAMESPACE} AND t.typtype IN ('d','e','r') AND ${NOT_EXTENSION_MEMBER("pg_type", "t.oid")}`;

const STATE_SQL = `SELECT json_build_object(
  'occupied', (SELECT count(*) FROM (${USER_RELATIONS}) r) + (SELECT count(*) FROM (${USER_ROUTINES}) p)
            + (SELECT count(*) FROM (${USER_TYPES}) t) + (SELECT count(*) FROM pg_largeobject_metadata),
  'schemas', (SELECT coalesce(json_agg(json_build_object(
      'name', n.nspname,
      'acl', ARRAY(SELECT a::text FROM unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) a ORDER BY 1),
      'comment', obj_description(n.oid, 'pg_namespace'),
      'owner', n.nspowner::regrole::text) ORDER BY n.nspname), '[]'::json)
    FROM pg_namespace n WHERE ${USER_NAMESPACE}),
  'extensions', (SELECT coalesce(json_agg(extname ORDER BY extname), '[]'::json) FROM pg_extension),
  'publications', (SELECT coalesce(json_agg(pubname ORDER BY pubname), '[]'::json) FROM pg_publication),
  'eventTriggers', (SELECT coalesce(json_agg(evtname ORDER BY evtname), '[]'::json) FROM pg_event_trigger))`;

async function targetState(client: pg.Client): Promise<TargetState> {
  return (await client.query<{ state: TargetState }>(`SELECT (${STATE_SQL}) AS state`)).rows[0]!.state;
}

const textArray = (items: string[]) => `ARRAY[${items.map(quoteLiteral).join(",")}]::text[]`;

/** One transaction that takes the target back to `before` (which had no objects of its own). */
export function cleanupSql(before: TargetState): string {
  const kept = before.schemas;
  const resetSchemas = kept
    .map((s) => {
      const ident = `%I`;
      return `  IF (SELECT ARRAY(SELECT a::text FROM unnest(coalesce(nspacl, acldefault('n', nspowner))) a ORDER BY 1) FROM pg_namespace WHERE nspname = ${quoteLiteral(s.name)}) IS DISTINCT FROM ${textArray(s.acl)} THEN
    FOR g IN SELECT DISTINCT grantee FROM pg_namespace, aclexplode(coalesce(nspacl, acldefault('n', nspowner))) WHERE nspname = ${quoteLiteral(s.name)} LOOP
      EXECUTE format('REVOKE ALL ON SCHEMA ${ident} FROM %s', ${quoteLiteral(s.name)}, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
    END LOOP;
    FOR g IN SELECT * FROM aclexplode(${textArray(s.acl)}::aclitem[]) LOOP
      EXECUTE format('GRANT %s ON SCHEMA ${ident} TO %s%s', g.privilege_type, ${quoteLiteral(s.name)}, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
  END IF;
  IF (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = ${quoteLiteral(s.name)}) <> ${quoteLiteral(s.owner)} THEN
    EXECUTE format('ALTER SCHEMA ${ident} OWNER TO %s', ${quoteLiteral(s.name)}, ${quoteLiteral(s.owner)});
  END IF;
  EXECUTE format('COMMENT ON SCHEMA ${ident} IS %s', ${quoteLiteral(s.name)}, ${s.comment === null ? "'NULL'" : `quote_literal(${quoteLiteral(s.comment)})`});`;
    })
    .join("\n");
  return `DO $dbbackup_cleanup$ DECLARE r record; g record; BEGIN
  FOR r IN SELECT evtname FROM pg_event_trigger WHERE NOT (evtname = ANY(${textArray(before.eventTriggers)})) LOOP
    EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I', r.evtname);
  END LOOP;
  FOR r IN SELECT pubname FROM pg_publication WHERE NOT (pubname = ANY(${textArray(before.publications)})) LOOP
    EXECUTE format('DROP PUBLICATION IF EXISTS %I', r.pubname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE NOT (extname = ANY(${textArray(before.extensions)})) LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT n.nspname FROM pg_namespace n WHERE ${USER_NAMESPACE} AND NOT (n.nspname = ANY(${textArray(kept.map((s) => s.name))})) LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);
  END LOOP;
  FOR r IN ${USER_RELATIONS} LOOP
    IF EXISTS (SELECT 1 FROM pg_class WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, r.nspname, r.relname);
    END IF;
  END LOOP;
  FOR r IN ${USER_ROUTINES} LOOP
    IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s %s CASCADE', CASE r.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, r.oid::regprocedure);
    END IF;
  END LOOP;
  FOR r IN ${USER_TYPES} LOOP
    IF EXISTS (SELECT 1 FROM pg_type WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s %s CASCADE', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.oid::regtype);
    END IF;
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
${resetSchemas}
END $dbbackup_cleanup$;
`;
}


// pg_dump's table of contents, as its plain scripts print it: a comment before each entry,
//   -- Name: users on_auth_user_created; Type: TRIGGER; Schema: auth; Owner: -
//   -- Data for Name: users; Type: TABLE DATA; Schema: auth; Owner: -
// (pg_restore --file writes the same). Each statement the script reader yields carries the comments
// before it; an entry's later statements (an ALTER after its CREATE) carry none, so they belong to
// the last entry seen. The header only chooses which entries of the job's own dump a target needs:
// whatever it says, every statement still passes the restore's filter.

export interface TocEntry {
  /** pg_dump's type: TABLE, TABLE DATA, SEQUENCE SET, TRIGGER, POLICY, INDEX, ACL, SCHEMA, … */
  type: string;
  /** The schema the entry belongs to ("-" in the header: none, e.g. a SCHEMA or EXTENSION). */
  schema: string | null;
  /** pg_dump's tag: a name, "<table> <trigger>", "SCHEMA auth", "EXTENSION pgcrypto", … */
  name: string;
}

const HEADER = /^-- (?:Data for )?Name: (.*)$/;

/** The entry a statement's leading comments open, or null when they open none. */
export function tocEntryOf(sql: string): TocEntry | null {
  let found: TocEntry | null = null;
  for (const raw of sql.split("\n")) {
    const line = raw.trimEnd();
    if (line === "" ) continue;
    if (!line.startsWith("--")) break; // the statement itself: headers only come before it
    const m = HEADER.exec(line);
    if (!m) continue;
    let rest = m[1]!;
    const tablespace = rest.lastIndexOf("; Tablespace: ");
    if (tablespace >= 0) rest = rest.slice(0, tablespace);
    const owner = rest.lastIndexOf("; Owner: ");
    const schema = owner >= 0 ? rest.lastIndexOf("; Schema: ", owner) : -1;
    const type = schema >= 0 ? rest.lastIndexOf("; Type: ", schema) : -1;
    if (owner < 0 || schema < 0 || type < 0) continue;
    const schemaText = rest.slice(schema + "; Schema: ".length, owner);
    found = { name: rest.slice(0, type), type: rest.slice(type + "; Type: ".length, schema), schema: schemaText === "-" ? null : schemaText };
  }
  return found;
}

/** The schema an entry is about: its Schema field, or for a schema's own entries (the SCHEMA, and
 * its COMMENT and ACL, tagged "SCHEMA <name>") that schema. */
export function entrySchema(entry: TocEntry): string | null {
  if (entry.schema !== null) return entry.schema;
  if (entry.type === "SCHEMA") return unquote(entry.name);
  if (entry.name.startsWith("SCHEMA ")) return unquote(entry.name.slice("SCHEMA ".length));
  return null;
}

/** pg_dump writes names in tags as fmtId would: quoted when they need it. */
function unquote(name: string): string {
  return name.startsWith('"') && name.endsWith('"') && name.length >= 2 ? name.slice(1, -1).replace(/""/g, '"') : name;
}

// What one statement of a dump is, judged from its first words the way the server reads them (after
// whitespace and comments). The restore executes only what a pg_dump script consists of: the
// dump's own transaction control is dropped (only the job begins and commits), and statements
// pg_dump never writes that act outside the restored database, or on the session's transaction,
// are refused before they reach the server.
import { parseQualifiedName, readIdentifier, stripLeadingComments } from "../sql";

/** `COPY <table> [(<columns>)] FROM stdin;` exactly as pg_dump writes it. */
export interface CopyFromStdin {
  /** The table as written (a valid qualified name, quoted parts kept). */
  table: string;
}

const WORD = /^[A-Za-z_]+/;

/** The statement's first `count` words, uppercased (fewer when it has fewer). */
export function leadingWords(sql: string, count: number): string[] {
  const words: string[] = [];
  let rest = stripLeadingComments(sql);
  while (words.length < count) {
    const m = WORD.exec(rest);
    if (!m) break;
    words.push(m[0].toUpperCase());
    rest = stripLeadingComments(rest.slice(m[0].length));
  }
  return words;
}

/** The COPY statement when `sql` is exactly pg_dump's `COPY … FROM stdin;`, else null. Column
 * names may be quoted (and then contain anything), so they are read, not matched. */
export function parseCopyFromStdin(sql: string): CopyFromStdin | null {
  const text = stripLeadingComments(sql);
  const head = /^COPY\s+/i.exec(text);
  if (!head) return null;
  let i = head[0].length;
  const table = parseQualifiedName(text, i);
  if (!table) return null;
  i += table.length;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skip();
  if (text[i] === "(") {
    i++;
    for (;;) {
      skip();
      const column = readIdentifier(text, i);
      if (!column) return null;
      i += column.length;
      skip();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] !== ")") return null;
      i++;
      break;
    }
    skip();
  }
  const tail = /^FROM\s+stdin\s*;\s*$/i.exec(text.slice(i));
  return tail ? { table } : null;
}

export type StatementKind =
  /** Sent to the server as it is. */
  | { kind: "sql" }
  /** pg_dump's own BEGIN/COMMIT around large objects: not sent (only the job begins and commits). */
  | { kind: "dropped"; why: string }
  /** Never sent: the whole restore is refused. */
  | { kind: "refused"; why: string };

/** Statement kinds no pg_dump script contains that would end the restore's transaction or act
 * outside the database being restored: a dump that holds one is forged or not pg_dump's. */
const REFUSED: { words: string[]; why: string }[] = [
  { words: ["ROLLBACK"], why: "transaction control (ROLLBACK)" },
  { words: ["ABORT"], why: "transaction control (ABORT)" },
  { words: ["SAVEPOINT"], why: "transaction control (SAVEPOINT)" },
  { words: ["RELEASE"], why: "transaction control (RELEASE SAVEPOINT)" },
  { words: ["PREPARE", "TRANSACTION"], why: "transaction control (PREPARE TRANSACTION)" },
  { words: ["COMMIT", "PREPARED"], why: "transaction control (COMMIT PREPARED)" },
  { words: ["ROLLBACK", "PREPARED"], why: "transaction control (ROLLBACK PREPARED)" },
  { words: ["ALTER", "SYSTEM"], why: "ALTER SYSTEM (the server's configuration)" },
  { words: ["CREATE", "DATABASE"], why: "CREATE DATABASE" },
  { words: ["ALTER", "DATABASE"], why: "ALTER DATABASE" },
  { words: ["DROP", "DATABASE"], why: "DROP DATABASE" },
  { words: ["CREATE", "ROLE"], why: "CREATE ROLE (roles are the cluster's, not the dump's)" },
  { words: ["ALTER", "ROLE"], why: "ALTER ROLE" },
  { words: ["DROP", "ROLE"], why: "DROP ROLE" },
  { words: ["CREATE", "USER"], why: "CREATE USER" },
  { words: ["ALTER", "USER"], why: "ALTER USER" },
  { words: ["DROP", "USER"], why: "DROP USER" },
  { words: ["CREATE", "GROUP"], why: "CREATE GROUP" },
  { words: ["ALTER", "GROUP"], why: "ALTER GROUP" },
  { words: ["DROP", "GROUP"], why: "DROP GROUP" },
  { words: ["DROP", "OWNED"], why: "DROP OWNED" },
  { words: ["REASSIGN", "OWNED"], why: "REASSIGN OWNED" },
  { words: ["LOAD"], why: "LOAD (a shared library)" },
  { words: ["DO"], why: "an anonymous code block (DO)" },
  { words: ["CALL"], why: "CALL of a procedure" },
  { words: ["CHECKPOINT"], why: "CHECKPOINT" },
  { words: ["CREATE", "TABLESPACE"], why: "CREATE TABLESPACE" },
  { words: ["ALTER", "TABLESPACE"], why: "ALTER TABLESPACE" },
  { words: ["DROP", "TABLESPACE"], why: "DROP TABLESPACE" },
];

/** pg_dump's plain output brackets large-object data in its own BEGIN; … COMMIT;. RESET is never
 * pg_dump's either; dropping it keeps the job's own session settings (its lock timeout). */
const DROPPED = [["BEGIN"], ["START", "TRANSACTION"], ["COMMIT"], ["END"], ["RESET"]];

/** The SELECTs pg_dump writes: the search path, sequence values and large objects, each with
 * literal arguments only. Any other SELECT can act outside the restore's transaction (lo_export to
 * a server file, dblink) and is refused. */
const LITERAL = String.raw`(?:[Ee]?'(?:[^'\\]|''|\\.)*'|-?\d+|true|false)`;
const DUMP_SELECT = new RegExp(
  String.raw`^SELECT\s+pg_catalog\.(?:set_config\s*\(\s*'search_path'\s*,\s*${LITERAL}\s*,\s*false\s*\)|(?:setval|lo_create|lo_open|lowrite|lo_close|lo_unlink)\s*\(\s*(?:${LITERAL}\s*(?:,\s*${LITERAL}\s*)*)?\))\s*;?\s*$`,
  "s",
);

/** GRANT/REVOKE of a role, or on a database, tablespace or parameter: the cluster's, never what
 * pg_dump writes for a database's objects. */
function clusterPrivilege(text: string, verb: "GRANT" | "REVOKE"): boolean {
  const words = text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, " x ").toUpperCase().split(/[\s,;()]+/).filter(Boolean);
  const on = words.indexOf("ON");
  const edge = words.indexOf(verb === "GRANT" ? "TO" : "FROM");
  if (on === -1 || (edge !== -1 && edge < on)) return true; // a role granted to a role
  return ["DATABASE", "TABLESPACE", "PARAMETER"].includes(words[on + 1] ?? "");
}

export function classifyStatement(sql: string): StatementKind {
  const words = leadingWords(sql, 3);
  const matches = (w: string[]) => w.every((x, i) => words[i] === x);
  // USER MAPPING is a database object pg_dump writes (postgres_fdw); USER alone is a role.
  if (words[1] === "USER" && words[2] === "MAPPING" && ["CREATE", "ALTER", "DROP"].includes(words[0]!)) return { kind: "sql" };
  // The longer patterns first: COMMIT PREPARED is refused, COMMIT alone dropped.
  for (const r of [...REFUSED].sort((a, b) => b.words.length - a.words.length)) {
    if (matches(r.words)) return { kind: "refused", why: r.why };
  }
  if (DROPPED.some(matches)) return { kind: "dropped", why: `the dump's own ${words.slice(0, 2).join(" ")} (only the job begins and commits the restore)` };
  const text = stripLeadingComments(sql);
  if (words[0] === "COPY" && !parseCopyFromStdin(sql)) return { kind: "refused", why: "a COPY that is not pg_dump's `COPY … FROM stdin` (to or from a file or a program)" };
  if (words[0] === "SELECT" && !DUMP_SELECT.test(text)) return { kind: "refused", why: "a SELECT other than pg_dump's (search path, sequence values, large objects), which could act outside the restore" };
  if ((words[0] === "GRANT" || words[0] === "REVOKE") && clusterPrivilege(text, words[0])) {
    return { kind: "refused", why: `a ${words[0]} of a role, or on a database, tablespace or parameter (the cluster's, not the dump's)` };
  }
  if (matches(["COMMENT", "ON"]) && /^COMMENT\s+ON\s+(ROLE|DATABASE|TABLESPACE)\b/i.test(text)) return { kind: "refused", why: "a COMMENT on a role, database or tablespace (the cluster's)" };
  return { kind: "sql" };
}

/** `SET name = value` / `SET name TO value` (session or unqualified), or null. */
export function parseSet(sql: string): { name: string; value: string } | null {
  const m = /^SET\s+(?:SESSION\s+|LOCAL\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|\s+TO\s+)\s*(.*?)\s*;?\s*$/is.exec(stripLeadingComments(sql));
  if (!m) return null;
  return { name: m[1]!.toLowerCase(), value: m[2]!.replace(/^'(.*)'$/s, "$1") };
}

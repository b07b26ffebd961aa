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
];

/** pg_dump's plain output brackets large-object data in its own BEGIN; … COMMIT;. */
const DROPPED = [["BEGIN"], ["START", "TRANSACTION"], ["COMMIT"], ["END"]];

export function classifyStatement(sql: string): StatementKind {
  const words = leadingWords(sql, 2);
  const matches = (w: string[]) => w.every((x, i) => words[i] === x);
  // The longer patterns first: COMMIT PREPARED is refused, COMMIT alone dropped.
  for (const r of [...REFUSED].sort((a, b) => b.words.length - a.words.length)) {
    if (matches(r.words)) return { kind: "refused", why: r.why };
  }
  if (DROPPED.some(matches)) return { kind: "dropped", why: `the dump's own ${words.join(" ")} (only the job begins and commits the restore)` };
  if (words[0] === "COPY" && !parseCopyFromStdin(sql)) return { kind: "refused", why: "a COPY that is not pg_dump's `COPY … FROM stdin` (to or from a file or a program)" };
  return { kind: "sql" };
}

/** `SET name = value` / `SET name TO value` (session or unqualified), or null. */
export function parseSet(sql: string): { name: string; value: string } | null {
  const m = /^SET\s+(?:SESSION\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|\s+TO\s+)\s*(.*?)\s*;?\s*$/is.exec(stripLeadingComments(sql));
  if (!m) return null;
  return { name: m[1]!.toLowerCase(), value: m[2]!.replace(/^'(.*)'$/s, "$1") };
}

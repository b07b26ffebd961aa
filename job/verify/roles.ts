// Roles a dump refers to (GRANT … TO, REVOKE … FROM, CREATE POLICY … TO, OWNER TO, ALTER DEFAULT
// PRIVILEGES FOR ROLE), read from its SQL outside COPY data. A scratch server that lacks one gets
// it as NOLOGIN before a verification restore, so Supabase's anon/authenticated grants restore there.
import type pg from "pg";
import { quoteIdent, readQuoted, stripLeadingComments } from "../postgres/sql";

const PSEUDO_ROLES = new Set(["public", "current_user", "session_user", "current_role"]);

type Token = { text: string; quoted: boolean };

/** Splits one SQL line into identifiers/words (quoted ones unquoted), skipping string literals. */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"' || c === "'") {
      const quoted = readQuoted(line, i, c);
      if (!quoted) return tokens;
      // An identifier keeps its text; a string literal only marks its place.
      tokens.push(c === '"' ? { text: quoted.value, quoted: true } : { text: "'", quoted: false });
      i = quoted.end;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(line.slice(i))!;
      tokens.push({ text: m[0], quoted: false });
      i += m[0].length;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      tokens.push({ text: c, quoted: false });
      i++;
    }
  }
  return tokens;
}

const isWord = (t: Token | undefined, word: string) => t !== undefined && !t.quoted && t.text.toUpperCase() === word;

/** Role names in a comma list starting at `start`, until a keyword or `;`. */
function roleList(tokens: Token[], start: number): string[] {
  const roles: string[] = [];
  for (let i = start; i < tokens.length; i += 2) {
    const t = tokens[i]!;
    if (!t.quoted && !/^[A-Za-z_]/.test(t.text)) break;
    if (!t.quoted && ["WITH", "GRANTED", "USING", "CASCADE", "RESTRICT"].includes(t.text.toUpperCase())) break;
    if (!t.quoted && t.text.toUpperCase() === "GROUP") {
      i -= 1; // GRANT … TO GROUP name
      continue;
    }
    const name = t.quoted ? t.text : t.text.toLowerCase();
    if (t.quoted || !PSEUDO_ROLES.has(name)) roles.push(name);
    if (tokens[i + 1]?.text !== ",") break;
  }
  return roles;
}

/** The roles one SQL statement line refers to. */
export function rolesInStatement(line: string): string[] {
  if (!/^(GRANT|REVOKE|CREATE POLICY|ALTER|SET SESSION AUTHORIZATION|SET ROLE)/i.test(line)) return [];
  const tokens = tokenize(line);
  const head = tokens[0]?.text.toUpperCase();
  const lastIndex = (word: string) => {
    for (let i = tokens.length - 1; i >= 0; i--) if (isWord(tokens[i], word)) return i;
    return -1;
  };
  if (head === "GRANT") {
    const to = lastIndex("TO");
    return to >= 0 ? roleList(tokens, to + 1) : [];
  }
  if (head === "REVOKE") {
    const from = lastIndex("FROM");
    return from >= 0 ? roleList(tokens, from + 1) : [];
  }
  if (head === "CREATE" && isWord(tokens[1], "POLICY")) {
    const on = tokens.findIndex((t, i) => i > 2 && isWord(t, "ON"));
    const to = tokens.findIndex((t, i) => i > on && on >= 0 && isWord(t, "TO"));
    return to >= 0 ? roleList(tokens, to + 1) : [];
  }
  if (head === "ALTER") {
    const roles: string[] = [];
    const owner = tokens.findIndex((t, i) => isWord(t, "OWNER") && isWord(tokens[i + 1], "TO"));
    if (owner >= 0) roles.push(...roleList(tokens, owner + 2));
    if (isWord(tokens[1], "DEFAULT") && isWord(tokens[2], "PRIVILEGES")) {
      if (isWord(tokens[3], "FOR")) roles.push(...roleList(tokens, 5)); // FOR ROLE x / FOR USER x
      const grant = tokens.findIndex((t) => isWord(t, "GRANT"));
      const revoke = tokens.findIndex((t) => isWord(t, "REVOKE"));
      if (grant >= 0 && lastIndex("TO") > grant) roles.push(...roleList(tokens, lastIndex("TO") + 1));
      if (revoke >= 0 && lastIndex("FROM") > revoke) roles.push(...roleList(tokens, lastIndex("FROM") + 1));
    }
    return roles;
  }
  // SET SESSION AUTHORIZATION x / SET ROLE x
  const last = tokens[tokens.length - 1]?.text === ";" ? tokens[tokens.length - 2] : tokens[tokens.length - 1];
  return last && last.text !== "'" ? [last.quoted ? last.text : last.text.toLowerCase()].filter((r) => !PSEUDO_ROLES.has(r) && r !== "none" && r !== "default") : [];
}

/** The roles the drill's statements name, created (NOLOGIN, inside the scratch restore's
 * transaction) when the server lacks them, so Supabase's anon/authenticated grants restore on any
 * PostgreSQL server. A drill that fails leaves no role behind: its transaction is rolled back. */
export function roleKeeper(): { ensure: (sql: string, client: pg.Client) => Promise<void>; created: () => string[] } {
  const known = new Set<string>();
  const created: string[] = [];
  return {
    async ensure(sql, client) {
      const roles = rolesInStatement(stripLeadingComments(sql)).filter((r) => !known.has(r));
      if (roles.length === 0) return;
      const existing = new Set((await client.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", [roles])).rows.map((r) => r.rolname));
      for (const role of roles) {
        known.add(role);
        if (existing.has(role)) continue;
        // Another drill may create the same role at the same moment.
        await client.query(`DO $dbbackup$ BEGIN CREATE ROLE ${quoteIdent(role)} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $dbbackup$`);
        created.push(role);
      }
    },
    created: () => [...created].sort(),
  };
}

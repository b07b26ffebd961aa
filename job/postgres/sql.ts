import { integrityError } from "../core/errors";

// SQL text in one place: doubled-quote escaping ("a ""b""" and 'it''s'), identifiers quoted and
// unquoted, qualified names read from pg_dump's output (row counter, role scanner, table of contents)
// and checked before they reach a statement.

/** Reads the quoted text whose opening `quote` is at `start`: its value with doubled quotes undone
 * and the index just after the closing quote; null when it never closes. */
export function readQuoted(text: string, start: number, quote: '"' | "'"): { value: string; end: number } | null {
  let value = "";
  let j = start + 1;
  for (;;) {
    const q = text.indexOf(quote, j);
    if (q === -1) return null;
    value += text.slice(j, q);
    if (text[q + 1] !== quote) return { value, end: q + 1 };
    value += quote;
    j = q + 2;
  }
}

/** Reads one identifier (bare, or "double ""quoted""") at `start`; returns it as written. */
export function readIdentifier(text: string, start: number): string | null {
  if (text[start] === '"') {
    const quoted = readQuoted(text, start, '"');
    return quoted && quoted.value !== "" ? text.slice(start, quoted.end) : null;
  }
  return /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(text.slice(start))?.[0] ?? null;
}

/** Reads `schema.table` (each part bare or "double ""quoted""") starting at `start`; returns it as
 * written, which is valid SQL for the same relation. */
export function parseQualifiedName(text: string, start: number): string | null {
  let i = start;
  const parts: string[] = [];
  for (;;) {
    if (text[i] === '"') {
      const quoted = readQuoted(text, i, '"');
      if (!quoted || quoted.value === "") return null; // "" is not an identifier
      parts.push(text.slice(i, quoted.end));
      i = quoted.end;
    } else {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(text.slice(i));
      if (!m) return null;
      parts.push(m[0]);
      i += m[0].length;
    }
    if (text[i] !== ".") break;
    i++;
  }
  return parts.length > 0 ? parts.join(".") : null;
}

/** A qualified name from a manifest, accepted only if it is exactly one (quoted) identifier path. */
export function safeQualifiedName(name: string): string {
  if (parseQualifiedName(name, 0) !== name) throw integrityError(`manifest names a table "${name}" that is not a valid identifier`);
  return name;
}

/** `name` or `"quoted ""name"""` → the name; null when it is neither. */
export function unquoteIdentifier(text: string): string | null {
  const t = text.trim();
  if (/^"(?:[^"]|"")+"$/.test(t)) return t.slice(1, -1).replace(/""/g, '"');
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(t) ? t.toLowerCase() : null;
}

/** An identifier always in double quotes: for names the job puts into SQL it writes itself. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal ('it''s'); with standard_conforming_strings on, as every supported server has. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** An identifier quoted only when it must be, the way pg_dump writes simple lowercase names. */
export function quoteIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

/** "schema.table" (each part bare or quoted) → [schema, table] unquoted; null when not qualified. */
export function splitQualifiedName(name: string): [string, string] | null {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length) {
    if (name[i] === '"') {
      const quoted = readQuoted(name, i, '"');
      if (!quoted) return null;
      parts.push(quoted.value);
      i = quoted.end;
    } else {
      const dot = name.indexOf(".", i);
      const end = dot === -1 ? name.length : dot;
      parts.push(name.slice(i, end).toLowerCase());
      i = end;
    }
    if (i < name.length) {
      if (name[i] !== ".") return null;
      i++;
    }
  }
  return parts.length === 2 ? [parts[0]!, parts[1]!] : null;
}

/** The SQL with its leading whitespace and comments removed (how the server sees its first word). */
export function stripLeadingComments(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith("--", i)) {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (sql.startsWith("/*", i)) {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql.startsWith("/*", i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith("*/", i)) {
          depth--;
          i += 2;
        } else i++;
      }
    } else return sql.slice(i);
  }
}

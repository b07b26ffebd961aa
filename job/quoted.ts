// SQL's doubled-quote escaping ("a ""b""" and 'it''s'), read in one place for the parsers that
// look at pg_dump's output (row counter, role scanner, table-of-contents names).

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

// A safety check's outcome, as restore and delete print them (`--dry-run`) and refuse with the first
// that failed.

/** One line of the gate: what was checked, whether it passed, and what it found or would allow it. */
export interface GateCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** The first failed check's detail is the refusal's one line. */
export function firstFailure(checks: GateCheck[]): GateCheck | undefined {
  return checks.find((c) => !c.ok);
}

export function renderChecks(checks: GateCheck[]): string {
  return checks.map((c) => `  ${c.ok ? "[ok]     " : "[refused]"} ${c.check}: ${c.detail}`).join("\n");
}

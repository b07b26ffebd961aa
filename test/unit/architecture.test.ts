// The architecture of .dependency-cruiser.cjs, checked with dependency-cruiser's API: job/ and infra/
// break none of its rules (one line per violation: the rule, from → to, a cycle's whole path), and
// the same rules do catch a cycle and a core/ file that imports a capability in a tree made for it.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cruise, type ICruiseOptions, type ISummary, type IViolation } from "dependency-cruiser";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli";

// dependency-cruiser 17 is ESM only; vitest imports it natively. Its config-utl entry points have
// no types this project's module resolution finds: imported at run time, typed here.
type ExtractOptions = { default(configFile: string): Promise<ICruiseOptions> };
type ExtractTsConfig = { default(tsConfigFile: string): unknown };
const load = <T>(specifier: string): Promise<T> => import(specifier) as Promise<T>;

/** The repository's rules and options, as `depcruise --config .dependency-cruiser.cjs` reads them. */
async function repoOptions(): Promise<ICruiseOptions> {
  const extract = await load<ExtractOptions>("dependency-cruiser/config-utl/extract-depcruise-options");
  return extract.default(path.join(ROOT, ".dependency-cruiser.cjs"));
}

async function cruiseSummary(baseDir: string, files: string[], options: ICruiseOptions, tsConfigFile?: string): Promise<ISummary> {
  const transpile = tsConfigFile ? { tsConfig: (await load<ExtractTsConfig>("dependency-cruiser/config-utl/extract-ts-config")).default(tsConfigFile) } : {};
  const result = await cruise(files, { ...options, baseDir }, undefined, transpile);
  if (typeof result.output === "string") throw new Error(`dependency-cruiser returned text, not a result: ${result.output.slice(0, 200)}`);
  return result.output.summary;
}

/** One line per violation: the rule, from → to, and for a cycle its whole path. */
function describeViolation(v: IViolation): string {
  const cycle = v.cycle && v.cycle.length > 0 ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(" → ")})` : "";
  return `${v.rule.name}: ${v.from} → ${v.to}${cycle}`;
}

describe("the architecture (.dependency-cruiser.cjs)", () => {
  it("job/ and infra/ break none of its rules", async () => {
    const summary = await cruiseSummary(ROOT, ["job", "infra"], await repoOptions(), path.join(ROOT, "tsconfig.json"));
    expect(summary.totalCruised).toBeGreaterThan(50);
    expect(summary.violations.map(describeViolation).join("\n")).toBe("");
    expect(summary.error).toBe(0);
  }, 120_000);

  describe("catches what it forbids (not a vacuous check)", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "dbb-arch-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    function write(file: string, text: string): void {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }

    it("reports an import cycle with its path and a core/ file importing a capability", async () => {
      // a.ts ↔ b.ts inside one capability (so only the cycle rule applies to them) …
      write("job/backup/a.ts", 'import { b } from "./b";\nexport const a = (): number => b() + 1;\n');
      write("job/backup/b.ts", 'import { a } from "./a";\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n');
      // … and core/, the floor, reaching up into a capability.
      write("job/core/settings.ts", 'import { a } from "../backup/a";\nexport const setting = a;\n');
      write("job/backup/index.ts", 'export { a } from "./a";\n');
      const { tsConfig: _repoTsConfig, ...options } = await repoOptions();
      const summary = await cruiseSummary(dir, ["job"], options);
      const lines = summary.violations.map(describeViolation);
      expect(lines).toContain("core-is-the-floor: job/core/settings.ts → job/backup/a.ts");
      const cycles = summary.violations.filter((v) => v.rule.name === "no-cycles");
      expect(cycles.length, lines.join("\n")).toBeGreaterThan(0);
      for (const v of cycles) {
        expect([v.from, v.to].sort()).toEqual(["job/backup/a.ts", "job/backup/b.ts"]);
        expect(describeViolation(v)).toMatch(/^no-cycles: job\/backup\/(a|b)\.ts → job\/backup\/(b|a)\.ts \(cycle: job\/backup\/(a|b)\.ts → job\/backup\/(b|a)\.ts → job\/backup\/(a|b)\.ts\)$/);
      }
      expect(summary.violations.every((v) => ["no-cycles", "core-is-the-floor"].includes(v.rule.name)), lines.join("\n")).toBe(true);
      expect(summary.error).toBe(summary.violations.length);
    }, 120_000);
  });
});

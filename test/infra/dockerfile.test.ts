// job/Dockerfile, checked as far as possible without a Docker engine: base pinned by digest, the
// build arguments the program passes are the ones it needs, a non-root user, and the bundle it
// copies is the one `npm run build` writes (vitest's global setup runs the build first).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BUILD_CONTEXT, DOCKERFILE } from "../../infra/components/image";
import { APP_UID, BUNDLE_PATH, JOB_COMMAND } from "../../infra/workload";
import { ofType, stackRun } from "../helpers/infra-stacks";

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function parse(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  return joined
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

const instructions = parse(fs.readFileSync(DOCKERFILE, "utf8"));
const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
let buildArgs: Record<string, string> = {};

beforeAll(async () => {
  for (const stack of ["dev", "prod"]) {
    const image = ofType(await stackRun(stack), "docker:index/image:Image")[0]!.inputs;
    expect(path.resolve(image.build.dockerfile)).toBe(DOCKERFILE);
    expect(path.resolve(image.build.context)).toBe(BUILD_CONTEXT);
    buildArgs = image.build.args;
  }
});

describe("job/Dockerfile", () => {
  it("starts from a slim Node LTS image pinned by digest, in a single stage", () => {
    const from = all("FROM");
    expect(from).toHaveLength(1);
    const match = /^node:(\d+)-[a-z]+-slim@sha256:[0-9a-f]{64}$/.exec(from[0]!.args);
    expect(match, from[0]!.args).not.toBeNull();
    expect(Number(match![1]) % 2, "Node LTS majors are even").toBe(0);
    expect(Number(match![1])).toBeGreaterThanOrEqual(20);
  });

  it("declares exactly the build arguments the program passes, with no defaults to drift", () => {
    const declared = all("ARG").map((i) => i.args);
    expect(declared.sort()).toEqual(Object.keys(buildArgs).sort());
    expect(buildArgs.APP_UID).toBe(String(APP_UID));
    expect(["15", "16", "17"]).toContain(buildArgs.PG_MAJOR);
  });

  it("installs the PostgreSQL client of the configured major and pigz, and nothing is left in apt's lists", () => {
    const run = all("RUN").map((i) => i.args).join(" && ");
    expect(run).toContain('"postgresql-client-${PG_MAJOR}"');
    expect(run).toMatch(/\bpigz\b/);
    expect(run).toContain("rm -rf /var/lib/apt/lists/*");
    expect(run).not.toMatch(/\bnpm\b|\bnpx\b/);
    expect(all("ENV").map((i) => i.args).join(" ")).toContain("/usr/lib/postgresql/${PG_MAJOR}/bin");
  });

  it("trusts the PostgreSQL apt key only by its fingerprint: the check passes the real key and fails the build on any other", () => {
    const run = all("RUN").map((i) => i.args).join(" && ");
    const steps = run.split(/\s+&&\s+/);
    expect(steps).toContain("PGDG_FINGERPRINT=B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8"); // ACCC4CF8's, as postgresql.org publishes it
    const from = steps.findIndex((s) => s.startsWith("export GNUPGHOME="));
    const to = steps.findIndex((s) => s.startsWith("if ["));
    expect(from, "the key check").toBeGreaterThan(steps.findIndex((s) => s.startsWith("curl ")));
    expect(to).toBeGreaterThan(from);
    // The key is trusted (signed-by) only after the check, and the check ends the build on a mismatch.
    expect(steps.findIndex((s) => s.includes("signed-by="))).toBeGreaterThan(to);
    expect(steps[to]).toMatch(/exit 1; fi$/);
    expect(steps[to + 1]).toBe('rm -rf "$GNUPGHOME"');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbb-pgdg-"));
    // mktemp (GNUPGHOME) under `dir`, so a refused check leaves nothing behind either.
    const check = (keyFile: string) =>
      spawnSync("bash", ["-c", ["set -e", `key=${JSON.stringify(keyFile)}`, "PGDG_FINGERPRINT=B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8", steps.slice(from, to + 2).join(" && ")].join("\n")], {
        encoding: "utf8",
        env: { ...process.env, TMPDIR: dir },
      });
    expect(spawnSync("gpg", ["--version"]).status, "gpg (Debian's gnupg) runs the key check").toBe(0);
    // The real key, as Debian's postgresql-common ships it (installed with PostgreSQL for the tests).
    const real = "/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc";
    expect(fs.existsSync(real), real).toBe(true);
    try {
      const passed = check(real);
      expect(passed.status, passed.stderr).toBe(0);
      // Another key (Debian's own archive key), and the real key with another one appended: refused.
      const home = fs.mkdtempSync(path.join(dir, "gnupg-"));
      const other = execFileSync("gpg", ["--homedir", home, "--batch", "--no-default-keyring", "--keyring", "/usr/share/keyrings/debian-archive-bookworm-stable.gpg", "--export", "--armor"], { encoding: "utf8" });
      fs.writeFileSync(path.join(dir, "other.asc"), other);
      fs.writeFileSync(path.join(dir, "both.asc"), fs.readFileSync(real, "utf8") + other);
      for (const file of ["other.asc", "both.asc"]) {
        const refused = check(path.join(dir, file));
        expect(refused.status, file).toBe(1);
        expect(refused.stderr, file).toContain("apt.postgresql.org key is not B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8");
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(run).toContain("apt-get purge -y curl gnupg");
  });

  it("runs as a non-root user: the pods' runAsUser", () => {
    const user = all("USER").at(-1);
    expect(user?.args).toBe("${APP_UID}:${APP_UID}");
    expect(APP_UID).toBeGreaterThan(0);
    expect(all("RUN").map((i) => i.args).join(" ")).toContain('useradd --system --uid "$APP_UID"');
    // USER comes after everything that needs root.
    const lastRun = instructions.map((i) => i.keyword).lastIndexOf("RUN");
    expect(instructions.findIndex((i) => i.keyword === "USER")).toBeGreaterThan(lastRun);
  });

  it("copies the bundle `npm run build` writes, and runs it like the pods do", () => {
    expect(all("ADD")).toHaveLength(0);
    const copies = all("COPY");
    expect(copies).toHaveLength(1);
    const [source, destination] = copies[0]!.args.split(/\s+/);
    expect(destination).toBe(BUNDLE_PATH);
    const bundle = path.join(BUILD_CONTEXT, source!);
    expect(path.relative(path.resolve(__dirname, "../.."), bundle)).toBe(path.join("dist", "db-backup.cjs"));
    expect(fs.statSync(bundle).size, "dist/db-backup.cjs after npm run build").toBeGreaterThan(10_000);
    expect(JSON.parse(all("ENTRYPOINT")[0]!.args)).toEqual(JOB_COMMAND);
  });
});

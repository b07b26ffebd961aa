// The README's runbooks cannot rot: every fenced block of its "Runbooks" section is parsed and
// exercised. `db-backup` commands run through the real bundle against PostgreSQL and a BACKUP_DIR,
// each returning the exit code the README promises; `kubectl` pipelines are replayed against the
// CronJobs the Pulumi program really creates (captured with mocks): the Job that `kubectl create
// job --from=cronjob/…` would send goes through the README's own `kubectl set env --local` (real
// kubectl, offline), Kubernetes' `$(VAR)` expansion gives the container's arguments, and those run
// like the other commands. The target each restore names must be a variable the stack's Secret holds.
// A step using an action or flag that `--help` does not list fails before anything runs.
import { execFileSync } from "node:child_process";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProductionEnvName } from "../../job/core/catalog";
import { envVarForTarget } from "../../job/core/settings";
import { JOB_COMMAND } from "../../infra/workload";
import { placeholderSecrets, runProgram, type ProgramRun } from "../../infra/testing/capture";
import { ROOT, baseEnv, runCli } from "../helpers/cli";
import { createDatabase, dropDatabase, loadFixture, uniqueName } from "../helpers/pg";
import { expandArgs, jobFromCronJob, parseJobPipeline, runbookBlocks, type Block, type Step } from "../helpers/readme-runbooks";
import { requireServices, services } from "../helpers/services";

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const blocks = runbookBlocks(README);

/** What a placeholder stands for; `<backup_id>` is the block's base backup, or the one it created last. */
const PLACEHOLDERS: Record<string, (backupId: string) => string> = {
  backup_id: (backupId) => backupId,
  name: () => "oncall-ada",
  reason: () => "restore drill from the README runbook",
  tag: () => "before_v3_schema",
};

let source: string;
let sourceUrl: string;
let baseDir: string;
let work: string;
let baseId: string;
let actions: Set<string>;
let globalFlags: Set<string>;
const flagCache = new Map<string, Promise<Set<string>>>();
const stackCache = new Map<string, Promise<ProgramRun>>();
const ran: string[] = [];

/** The long flags of a help text's "Options:" list. */
function optionFlags(help: string): Set<string> {
  const start = help.indexOf("\nOptions:\n");
  const text = start >= 0 ? help.slice(start).split(/\n\n/)[0]! : "";
  return new Set([...text.matchAll(/^\s+(?:-\w, )?(--[a-z0-9][a-z0-9-]*)/gm)].map((m) => m[1]!));
}

function flagsOf(action: string): Promise<Set<string>> {
  if (!flagCache.has(action)) {
    flagCache.set(action, runCli([action, "--help"], baseEnv()).then((r) => {
      expect(r.code, r.stderr).toBe(0);
      return optionFlags(r.stdout);
    }));
  }
  return flagCache.get(action)!;
}

/** Actions and flags a command uses that the tool does not have. */
async function missingFrom(args: string[]): Promise<string[]> {
  const action = args[0]!;
  if (!actions.has(action)) return [action];
  const known = await flagsOf(action);
  return args.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]!).filter((f) => !known.has(f) && !globalFlags.has(f));
}

function stack(name: string): Promise<ProgramRun> {
  if (!stackCache.has(name)) {
    stackCache.set(name, runProgram({ stack: name, secrets: { ...placeholderSecrets(), targetDbUrls: { staging: "postgres://placeholder@staging-db/postgres?sslmode=verify-full" } } }));
  }
  return stackCache.get(name)!;
}

/** `<name>` → `__name__` (kubectl passes it through untouched), filled in when the step runs. */
const toMarkers = (text: string) => text.replace(/<([a-z_]+)>/g, (_, n: string) => `__${n}__`);

function fill(arg: string, backupId: string): string {
  return arg.replace(/<([a-z_]+)>|__([a-z_]+)__/g, (match, a?: string, b?: string) => {
    const name = (a ?? b)!;
    const value = PLACEHOLDERS[name];
    if (!value) throw new Error(`unknown placeholder ${match} in the runbooks: add it to PLACEHOLDERS`);
    return value(backupId);
  });
}

interface Planned {
  step: Step;
  args?: string[];
  expectedExit: number;
}

/** The db-backup arguments a `kubectl create job --from=cronjob/…` pipeline ends up running. */
async function argsFromCluster(step: Extract<Step, { kind: "kubectl-job" }>, stackName: string): Promise<string[]> {
  const parts = parseJobPipeline(step.segments);
  const run = await stack(stackName);
  expect(run.mockCalls).toBeGreaterThan(0);
  const cronJobs = run.resources.filter((r) => r.type === "kubernetes:batch/v1:CronJob").map((r) => r.inputs);
  const cronJob = cronJobs.find((c) => c.metadata.name === parts.cronJob);
  if (!cronJob) throw new Error(`no CronJob ${parts.cronJob} in the ${stackName} stack (there are ${cronJobs.map((c) => c.metadata.name).join(", ")})`);
  expect(parts.namespace, "the namespace the stack deploys into").toBe(cronJob.metadata.namespace);
  let manifest = jobFromCronJob(cronJob as Parameters<typeof jobFromCronJob>[0], "runbook-job");
  for (const segment of parts.setEnv) {
    manifest = execFileSync("bash", ["-c", toMarkers(segment)], { input: manifest, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  }
  const job = YAML.parse(manifest) as { spec: { template: { spec: { containers: { command: string[]; args: string[]; env?: { name: string; value?: string }[] }[] } } } };
  const container = job.spec.template.spec.containers[0]!;
  expect(container.command).toEqual(JOB_COMMAND);
  const args = expandArgs(container.args, container.env ?? []);
  expect(args.join(" "), "every $(VAR) of the template is defined").not.toContain("$(");
  const target = args.indexOf("--target");
  if (target >= 0) {
    // The Secret this workload's pod reads (each workload has its own).
    const secretName = (container as { envFrom?: { secretRef?: { name: string } }[] }).envFrom?.find((e) => e.secretRef)?.secretRef?.name;
    const secret = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.name === secretName);
    expect(secret, `the Secret ${secretName} the pod reads`).toBeDefined();
    const variable = envVarForTarget(args[target + 1]!);
    expect(Object.keys(secret!.inputs.stringData ?? secret!.inputs.data ?? {}), `the pod reads ${variable} for --target ${args[target + 1]}`).toContain(variable);
  }
  return args;
}

async function plan(block: Block): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const step of block.steps) {
    if (step.kind === "export") {
      expect(step.name, "runbooks export only database URLs").toMatch(/_DB_URL$/);
      expect(step.value).toMatch(/^postgres(ql)?:\/\//);
      planned.push({ step, expectedExit: 0 });
    } else if (step.kind === "kubectl-read") {
      expect(step.args.slice(0, 2), step.text).toEqual(["-n", "db-backup"]);
      const selector = step.args[step.args.indexOf("-l") + 1];
      if (step.args.includes("-l") && selector) {
        const [key, value] = selector.split("=");
        const run = await stack(block.stack ?? "dev");
        const labelled = run.resources.filter((r) => r.type === "kubernetes:batch/v1:CronJob" && r.inputs.spec.jobTemplate.metadata?.labels?.[key!] === value);
        expect(labelled.length, `no CronJob makes Jobs labelled ${selector}`).toBeGreaterThan(0);
      }
      planned.push({ step, expectedExit: 0 });
    } else if (step.kind === "kubectl-job") {
      planned.push({ step, args: await argsFromCluster(step, block.stack ?? "dev"), expectedExit: step.expectedExit });
    } else {
      planned.push({ step, args: step.args, expectedExit: step.expectedExit });
    }
  }
  return planned;
}

async function exercise(block: Block): Promise<void> {
  const planned = await plan(block);
  for (const p of planned) {
    if (p.args) expect(await missingFrom(p.args), `README runbook "${block.heading}": ${p.step.text} uses what db-backup does not have`).toEqual([]);
  }

  // Fresh target databases for the block: empty, or holding data where the block replaces it.
  const names = new Set<string>();
  for (const p of planned) {
    if (p.step.kind === "export") names.add(p.step.name.replace(/_DB_URL$/, "").toLowerCase());
    const at = p.args?.indexOf("--target") ?? -1;
    if (p.args && at >= 0 && !p.args[at + 1]!.includes("://")) names.add(p.args[at + 1]!);
  }
  const replaces = planned.some((p) => p.args?.includes("--clean"));
  // Each block starts from the same store: the base backup only (blocks do not see each other's).
  const cwd = await fs.mkdtemp(path.join(work, "block-"));
  const dir = path.join(cwd, "store");
  await fs.cp(baseDir, dir, { recursive: true });
  const env = baseEnv({ SUPABASE_DB_URL: sourceUrl, BACKUP_DIR: dir, VERIFY_DB_URL: services.pgUrl });
  const databases: string[] = [];
  let currentId = baseId;
  try {
    for (const name of names) {
      const database = uniqueName(`dbb_rb_${name.replace(/\W/g, "")}`);
      databases.push(database);
      const url = await createDatabase(database);
      if (replaces) loadFixture(database);
      env[envVarForTarget(name)] = url;
      if (isProductionEnvName(name)) env.PRODUCTION_DB_URL = url;
    }
    for (const p of planned) {
      if (!p.args) continue;
      const args = p.args.map((a) => fill(a, currentId));
      // The one deviation: this machine has a single PostgreSQL server, so the scratch database of
      // `verify` is on the source's server, which verify refuses unless told.
      if (args[0] === "verify") args.push("--allow-source-server");
      const result = await runCli(args, env, { cwd });
      expect(result.code, `\`db-backup ${args.join(" ")}\` (README: ${p.step.text})\n${result.stderr}`).toBe(p.expectedExit);
      if (p.step.kind === "db-backup") for (const flag of p.step.mentions) expect(result.stderr, `the refusal names ${flag}`).toContain(flag);
      ran.push(`db-backup ${args.join(" ")}`);
      if (args[0] === "create" && result.code === 0) {
        currentId = /creating \S+ backup (\S+) of/.exec(result.stderr)?.[1] ?? currentId;
        expect(currentId).not.toBe(baseId);
      }
      if (args[0] === "download" && args[2]) expect(existsSync(path.join(cwd, args[2]))).toBe(true);
      const html = args.indexOf("--html");
      if (html >= 0) expect(readFileSync(path.join(cwd, args[html + 1]!), "utf8")).toMatch(/^<!DOCTYPE html>/);
    }
  } finally {
    for (const database of databases) await dropDatabase(database);
  }
}

beforeAll(async () => {
  await requireServices("postgres");
  source = uniqueName("dbb_rb_src");
  sourceUrl = await createDatabase(source);
  loadFixture(source);
  work = await fs.mkdtemp(path.join(os.tmpdir(), "dbb-runbooks-"));
  baseDir = path.join(work, "base-store");
  const made = await runCli(["create", "--type", "daily", "--json"], baseEnv({ SUPABASE_DB_URL: sourceUrl, BACKUP_DIR: baseDir }));
  expect(made.code, made.stderr).toBe(0);
  baseId = (JSON.parse(made.stdout) as { id: string }).id;
  const help = await runCli(["--help"], baseEnv());
  expect(help.code).toBe(0);
  const commands = help.stdout.slice(help.stdout.indexOf("\nCommands:\n")).split(/\n\n/)[0]!;
  actions = new Set([...commands.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!));
  globalFlags = optionFlags(help.stdout);
});

afterAll(async () => {
  if (source) await dropDatabase(source);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe("README runbooks", () => {
  it("cover the seed's Restore Procedures and Backup Scripts, each with commands", () => {
    const headings = blocks.map((b) => b.heading);
    for (const h of ["Restore: local development", "Restore: staging", "Restore: production (requires approval)", "Automated backup", "Selective table backup", "Schema-only backup"]) {
      expect(headings.some((x) => x.startsWith(h)), `a runbook block under "${h}"`).toBe(true);
    }
    for (const b of blocks) expect(b.steps.length).toBeGreaterThan(0);
    // Restores from the cluster go through the db-restore template, in both kinds of stack.
    const restorePipelines = blocks.flatMap((b) => b.steps.filter((s) => s.kind === "kubectl-job" && s.text.includes("--from=cronjob/db-restore")).map(() => b.stack));
    expect(new Set(restorePipelines)).toEqual(new Set(["dev", "prod"]));
  });

  for (const [index, block] of blocks.entries()) {
    const first = block.steps.find((s) => s.kind !== "export")?.text.split(" ").slice(0, 3).join(" ") ?? "";
    // One after another: blocks back up the same source database, and concurrent backups of one
    // database wait for each other's lock (or are refused), by design.
    it(`block ${index + 1} under "${block.heading}" (${first} …) runs as written`, async () => {
      await exercise(block);
    });
  }

  it("ran every kind of step for real", () => {
    expect(ran.some((c) => c.startsWith("db-backup restore") && c.includes("--target local"))).toBe(true);
    expect(ran.some((c) => c.startsWith("db-backup verify "))).toBe(true);
    expect(ran.some((c) => c.includes("--target production") && c.includes("--approved-by oncall-ada") && !c.includes("--dry-run"))).toBe(true);
    expect(ran.some((c) => c.includes("--target prod ") && c.includes("--request-id") && c.endsWith("--clean"))).toBe(true); // the prod template's Job
    expect(ran.some((c) => c.startsWith("db-backup restore") && c.includes("--target staging"))).toBe(true);
    expect(ran.some((c) => c === "db-backup create --type daily")).toBe(true);
    expect(ran.some((c) => c === "db-backup create --type pre_migration --tag before_v3_schema")).toBe(true); // from the kubectl pipeline
    expect(ran.some((c) => c.includes("--schema-only"))).toBe(true);
  });
});

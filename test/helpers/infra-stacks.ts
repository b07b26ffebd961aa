// Shared by the test/infra tests: the real stacks' config with test secrets, run under mocks, and
// ways to pick Kubernetes objects and pods out of a run.
import { readStackConfig, runProgram, type CapturedResource, type ProgramRun, type RunOptions } from "../../infra/testing/capture";

/** Distinctive values, so a test can prove none of them leaks into anything rendered. */
export const TEST_SECRETS = {
  sourceDbUrl: "postgres://backup:src-pass-3f9a1c@source.db.internal:5432/postgres",
  verifyDbUrl: "postgres://drill:scratch-pass-8d2e4b@scratch.db.internal:5432/postgres",
  minioAdminUser: "minio-admin-user-5b7f",
  minioAdminPassword: "minio-admin-pass-7c1e90",
} as const;

export const SECRET_VALUES = Object.values(TEST_SECRETS);

export interface StackRunOptions {
  /** Config entries to add or replace (`db-backup:key` → Pulumi's string form). */
  set?: Record<string, unknown>;
  /** Config keys to remove. */
  unset?: string[];
  secrets?: RunOptions["secrets"];
  preview?: boolean;
}

export function stackRun(stack: string, options: StackRunOptions = {}): Promise<ProgramRun> {
  const config = readStackConfig(stack);
  for (const key of options.unset ?? []) delete config[key];
  for (const [key, value] of Object.entries(options.set ?? {})) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return runProgram({ stack, config, secrets: options.secrets ?? { ...TEST_SECRETS }, preview: options.preview });
}

export const kubernetesObjects = (run: ProgramRun) => run.resources.filter((r) => r.type.startsWith("kubernetes:"));

export function objectsOfKind(run: ProgramRun, kind: string): CapturedResource[] {
  return kubernetesObjects(run).filter((r) => r.inputs.kind === kind);
}

export function object(run: ProgramRun, kind: string, name: string): CapturedResource {
  const found = objectsOfKind(run, kind).find((r) => r.inputs.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in stack ${run.stack}: have ${kubernetesObjects(run).map((r) => `${r.inputs.kind}/${r.inputs.metadata?.name}`).join(", ")}`);
  return found;
}

export function ofType(run: ProgramRun, type: string): CapturedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** Every pod template in a run, with the object it belongs to. */
export function podTemplates(run: ProgramRun): { owner: string; spec: any; jobSpec: any }[] {
  const pods: { owner: string; spec: any; jobSpec: any }[] = [];
  for (const r of kubernetesObjects(run)) {
    const name = `${r.inputs.kind}/${r.inputs.metadata?.name}`;
    if (r.inputs.kind === "CronJob") pods.push({ owner: name, spec: r.inputs.spec.jobTemplate.spec.template.spec, jobSpec: r.inputs.spec.jobTemplate.spec });
    if (r.inputs.kind === "Job") pods.push({ owner: name, spec: r.inputs.spec.template.spec, jobSpec: r.inputs.spec });
  }
  return pods;
}

// Shared by the test/infra tests: the real stacks' config with test secrets, run under mocks, and
// ways to pick Kubernetes objects and pods out of a run.
import { readStackConfig, runProgram, type CapturedResource, type ProgramRun, type RunOptions } from "../../infra/testing/capture";

/** Distinctive values, so a test can prove none of them leaks into anything rendered. Plain
 * postgres:// URLs: fine for dev; a production stack needs them with sslmode=verify-full
 * (PROD_SECRETS). */
export const TEST_SECRETS = {
  sourceDbUrl: "postgres://backup:src-pass-3f9a1c@source.db.internal:5432/postgres",
  verifyDbUrl: "postgres://drill:scratch-pass-8d2e4b@scratch.db.internal:5432/postgres",
  restoreDbUrl: "postgres://postgres:write-pass-41c6d2@source.db.internal:5432/postgres",
  minioAdminUser: "minio-admin-user-5b7f",
  minioAdminPassword: "minio-admin-pass-7c1e90",
} as const;

export const SECRET_VALUES = Object.values(TEST_SECRETS);

/** TEST_SECRETS as a production stack takes them: every database URL with sslmode=verify-full. */
export const PROD_SECRETS = Object.fromEntries(
  Object.entries(TEST_SECRETS).map(([k, v]) => [k, v.startsWith("postgres://") ? `${v}?sslmode=verify-full` : v]),
) as Record<keyof typeof TEST_SECRETS, string>;

/** A self-signed CA certificate made for these tests (public, no key kept): `tls.caBundle`. */
export const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUSMfMGiK/CP3taPggb0ao33YKjLQwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRZGItYmFja3VwIHRlc3QgQ0EwHhcNMjYxMTMwMjE0OTIyWhcN
MzYxMTI3MjE0OTIyWjAcMRowGAYDVQQDDBFkYi1iYWNrdXAgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABCtnGc+9tZHCwHNeBtSQbb0rTdrW8KPkmZth
vghcOSs+Nl0W+AFrQRs7WBY8CVOgnVIpt7E4E6VbeQMm8Rdw2ZmjUzBRMB0GA1Ud
DgQWBBRPvz2H1d3epHj43yiMPSByUJSUKzAfBgNVHSMEGDAWgBRPvz2H1d3epHj4
3yiMPSByUJSUKzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC9
7UWc12qZ9GO2AjLlp0DdyFCaEA/HBsMN6U49/nZFyAIgaQ9yy2BEm7+0CbulSp1l
bSA/63ttPg7RTaI2PDQJpRQ=
-----END CERTIFICATE-----`;

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
  const secrets = options.secrets ?? (stack === "prod" ? { ...PROD_SECRETS } : { ...TEST_SECRETS });
  return runProgram({ stack, config, secrets, preview: options.preview });
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

/** A cluster-scoped or namespaced object by kind and name, or undefined. */
export function maybeObject(run: ProgramRun, kind: string, name: string): CapturedResource | undefined {
  return objectsOfKind(run, kind).find((r) => r.inputs.metadata?.name === name);
}

/** Every pod template in a run, with the object it belongs to. */
export function podTemplates(run: ProgramRun): { owner: string; spec: any; jobSpec: any; labels: Record<string, string> }[] {
  const pods: { owner: string; spec: any; jobSpec: any; labels: Record<string, string> }[] = [];
  for (const r of kubernetesObjects(run)) {
    const name = `${r.inputs.kind}/${r.inputs.metadata?.name}`;
    const jobSpec = r.inputs.kind === "CronJob" ? r.inputs.spec.jobTemplate.spec : r.inputs.kind === "Job" ? r.inputs.spec : undefined;
    if (jobSpec) pods.push({ owner: name, spec: jobSpec.template.spec, jobSpec, labels: jobSpec.template.metadata?.labels ?? {} });
  }
  return pods;
}

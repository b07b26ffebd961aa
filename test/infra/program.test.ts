// The real program, run under mocks with the real Pulumi.dev.yaml / Pulumi.prod.yaml: what each
// stack creates, and proof that the mocks (not echoed inputs) answered.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { retentionRules } from "../../job/core/catalog";
import { ENV, retentionFromEnv } from "../../job/core/settings";
import { lifecycleRules } from "../../infra/lifecycle";
import { WORKLOADS, workloadPolicy } from "../../infra/policies";
import { MASK, MOCK_IMAGE_DIGEST, PROJECT, readStackConfig, type ProgramRun } from "../../infra/testing/capture";
import { AD_HOC_JOB_TTL_SECONDS, APP_UID, JOB_COMMAND, SECRET_NAMES } from "../../infra/workload";
import { PROD_SECRETS, SECRET_VALUES, TEST_SECRETS, object, objectsOfKind, ofType, podTemplates, stackRun } from "../helpers/infra-stacks";

let dev: ProgramRun;
let prod: ProgramRun;
beforeAll(async () => {
  dev = await stackRun("dev");
  prod = await stackRun("prod");
});

const bucketOf = (run: ProgramRun) => ofType(run, "minio:index/s3Bucket:S3Bucket")[0]!;
/** Pulumi.dev.yaml's network settings, to extend in a test. */
const devNetwork = () => JSON.parse(readStackConfig("dev")["db-backup:network"]!) as Record<string, unknown>;

describe("the mocks really ran", () => {
  it("answered every registration, and their answers flowed back into the program", () => {
    for (const run of [dev, prod]) {
      expect(run.resources.length).toBeGreaterThan(20);
      expect(run.mockCalls).toBe(run.resources.length);
      // The digest exists only in the mocked docker provider's answer; pods use it.
      for (const pod of podTemplates(run)) expect(pod.spec.containers[0].image).toMatch(new RegExp(`@${MOCK_IMAGE_DIGEST}$`));
      expect(run.outputs.operatorSecretKey).toMatch(/^mock-generated-secret-for-/);
    }
  });
});

describe("bucket", () => {
  it("is protected and retained on delete in every stack", () => {
    for (const run of [dev, prod]) {
      const bucket = bucketOf(run);
      expect(bucket.options.protect, run.stack).toBe(true);
      expect(bucket.options.retainOnDelete, run.stack).toBe(true);
      expect(bucket.inputs.forceDestroy).toBe(false);
      expect(ofType(run, "minio:index/s3BucketVersioning:S3BucketVersioning")[0]!.inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    }
  });

  it("has Object Lock in every stack, and by default", async () => {
    expect(bucketOf(prod).inputs).toMatchObject({ bucket: "db-backups-prod", objectLocking: true });
    expect(bucketOf(dev).inputs).toMatchObject({ bucket: "db-backups-dev", objectLocking: true });
    const unset = await stackRun("dev", { set: { "db-backup:bucket": { name: "db-backups-dev", prefix: "supabase" } } });
    expect(bucketOf(unset).inputs.objectLocking).toBe(true);
  });

  it("adopts an existing bucket when bucket.adopt is set (import by name)", async () => {
    const run = await stackRun("dev", { set: { "db-backup:bucket": { name: "legacy-backups", adopt: true } } });
    expect(bucketOf(run).options.importId).toBe("legacy-backups");
    expect(bucketOf(dev).options.importId).toBe("");
  });

  it("lifecycle rules are the catalog's retention with each stack's lengthening", () => {
    const rules = (run: ProgramRun) => ofType(run, "minio:index/ilmPolicy:IlmPolicy")[0]!.inputs.rules;
    expect(rules(dev)).toEqual(lifecycleRules("supabase", retentionRules()));
    expect(rules(prod)).toEqual(lifecycleRules("supabase", retentionRules({ monthly: 400, pre_migration: 180 })));
    for (const rule of rules(prod)) expect(rule.tags, rule.id).toBeUndefined();
  });

  it("a MinIO user per workload (backup, verify, status, restore, operator), each with exactly its pure policy", () => {
    for (const run of [dev, prod]) {
      const bucket = bucketOf(run).inputs.bucket;
      const retention = run === prod ? retentionRules({ monthly: 400, pre_migration: 180 }) : retentionRules();
      const policies = ofType(run, "minio:index/iamPolicy:IamPolicy");
      expect(policies.map((p) => p.inputs.name).sort()).toEqual(WORKLOADS.map((w) => `db-backup-${run.stack}-${w}`).sort());
      for (const w of WORKLOADS) {
        const policy = JSON.parse(policies.find((p) => p.inputs.name === `db-backup-${run.stack}-${w}`)!.inputs.policy);
        expect(policy, w).toEqual(workloadPolicy(w, bucket, "supabase", retention));
      }
      const attachments = ofType(run, "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment").map((a) => a.inputs);
      expect(attachments).toEqual(WORKLOADS.map((w) => ({ userName: `db-backup-${run.stack}-${w}`, policyName: `db-backup-${run.stack}-${w}` })));
    }
  });

  it("the MinIO provider's admin credentials arrive as secrets", () => {
    const provider = ofType(prod, "pulumi:providers:minio")[0]!;
    expect(provider.secretPaths.sort()).toEqual(["minioPassword", "minioUser"]);
    expect(provider.inputs.minioPassword).toBe(TEST_SECRETS.minioAdminPassword);
    expect(provider.masked.minioPassword).toBe(MASK);
  });
});

describe("image", () => {
  it("builds job/Dockerfile on the bundle's folder with the stack's PostgreSQL major and the pods' user", () => {
    const image = ofType(prod, "docker:index/image:Image")[0]!.inputs;
    expect(image.imageName).toBe("registry.example.com/platform/db-backup:0.1.0");
    expect(image.build).toMatchObject({ context: "dist", dockerfile: "job/Dockerfile", args: { PG_MAJOR: "15", APP_UID: String(APP_UID) } });
    expect(image.skipPush).toBe(false);
  });
});

describe("Kubernetes objects", () => {
  it("per stack: a CronJob per scheduled type, the drill, the staleness check, two suspended templates", () => {
    const names = (run: ProgramRun) => objectsOfKind(run, "CronJob").map((c) => c.inputs.metadata.name).sort();
    expect(names(prod)).toEqual(["db-backup-daily", "db-backup-monthly", "db-backup-pre-migration", "db-backup-status", "db-backup-verify", "db-restore"]);
    // dev switched the monthly schedule off
    expect(names(dev)).toEqual(["db-backup-daily", "db-backup-pre-migration", "db-backup-status", "db-backup-verify", "db-restore"]);
    expect(objectsOfKind(prod, "Job")).toHaveLength(0);
  });

  it("backup CronJobs run `create --type <type>` on the catalog's / stack's schedules", () => {
    const daily = object(prod, "CronJob", "db-backup-daily").inputs.spec;
    expect(daily.schedule).toBe("0 2 * * *");
    expect(daily.timeZone).toBe("Etc/UTC");
    expect(daily.jobTemplate.spec.template.spec.containers[0].command).toEqual(JOB_COMMAND);
    expect(daily.jobTemplate.spec.template.spec.containers[0].args).toEqual(["create", "--type", "daily"]);
    expect(object(prod, "CronJob", "db-backup-monthly").inputs.spec.schedule).toBe("0 3 1 * *");
    expect(object(prod, "CronJob", "db-backup-verify").inputs.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual(["verify"]);
  });

  it("the staleness check fails after one missed run of each scheduled type", () => {
    const args = (run: ProgramRun) => object(run, "CronJob", "db-backup-status").inputs.spec.jobTemplate.spec.template.spec.containers[0].args;
    expect(args(prod)).toEqual(["status", "--max-age", "daily=26h,monthly=746h"]);
    expect(args(dev)).toEqual(["status", "--max-age", "daily=26h"]);
    expect(object(prod, "CronJob", "db-backup-status").inputs.spec.jobTemplate.spec.backoffLimit).toBe(0);
  });

  it("every pod is restricted, bounded and never retried into a second restore", () => {
    for (const run of [dev, prod]) {
      for (const { owner, spec, jobSpec } of podTemplates(run)) {
        expect(spec.automountServiceAccountToken, owner).toBe(false);
        expect(spec.enableServiceLinks, owner).toBe(false);
        expect(spec.restartPolicy, owner).toBe("Never");
        expect(spec.securityContext, owner).toMatchObject({ runAsNonRoot: true, runAsUser: APP_UID, seccompProfile: { type: "RuntimeDefault" } });
        expect(spec.containers, owner).toHaveLength(1);
        const [container] = spec.containers;
        expect(container.securityContext, owner).toEqual({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
        expect(container.resources.requests, owner).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources.limits, owner).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.volumeMounts, owner).toEqual([{ name: "scratch", mountPath: "/tmp" }]);
        expect(spec.volumes[0].emptyDir.sizeLimit, owner).toBe(container.resources.limits["ephemeral-storage"]);
        expect(jobSpec.activeDeadlineSeconds, owner).toBeGreaterThan(0);
        expect(jobSpec.backoffLimit, owner).toBeGreaterThanOrEqual(0);
      }
      for (const cronJob of objectsOfKind(run, "CronJob")) {
        expect(cronJob.inputs.spec, cronJob.inputs.metadata.name).toMatchObject({
          concurrencyPolicy: "Forbid",
          successfulJobsHistoryLimit: expect.any(Number),
          failedJobsHistoryLimit: expect.any(Number),
          timeZone: "Etc/UTC",
        });
      }
    }
    expect(object(prod, "CronJob", "db-restore").inputs.spec.jobTemplate.spec.backoffLimit).toBe(0);
  });

  it("each pod takes the shared settings and its own workload's Secret only; ad-hoc Jobs clean up after a week", () => {
    const expected: Record<string, keyof typeof SECRET_NAMES> = {
      "db-backup-daily": "backup",
      "db-backup-monthly": "backup",
      "db-backup-pre-migration": "backup",
      "db-backup-verify": "verify",
      "db-backup-status": "status",
      "db-restore": "restore",
    };
    for (const { owner, spec } of podTemplates(prod)) {
      const workload = expected[owner.split("/")[1]!]!;
      expect(spec.containers[0].envFrom, owner).toEqual([{ configMapRef: { name: "db-backup-settings" } }, { secretRef: { name: SECRET_NAMES[workload] } }]);
    }
    // ttlSecondsAfterFinished on the templates' jobTemplate (inherited by `kubectl create job --from`),
    // never on the scheduled CronJobs, whose history limits keep their last runs.
    for (const name of ["db-restore", "db-backup-pre-migration"]) {
      expect(object(prod, "CronJob", name).inputs.spec.jobTemplate.spec.ttlSecondsAfterFinished, name).toBe(AD_HOC_JOB_TTL_SECONDS);
    }
    for (const name of ["db-backup-daily", "db-backup-monthly", "db-backup-verify", "db-backup-status"]) {
      expect(object(prod, "CronJob", name).inputs.spec.jobTemplate.spec.ttlSecondsAfterFinished, name).toBeUndefined();
    }
  });

  it("namespace enforces restricted Pod Security; the ServiceAccount has no token", () => {
    expect(object(prod, "Namespace", "db-backup").inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(object(prod, "ServiceAccount", "db-backup").inputs.automountServiceAccountToken).toBe(false);
  });

  it("ConfigMap carries the job's plain settings under the job's own variable names", () => {
    expect(object(prod, "ConfigMap", "db-backup-settings").inputs.data).toEqual({
      [ENV.environment]: "prod",
      [ENV.endpoint]: "https://minio.minio.svc.cluster.local:9000",
      [ENV.bucket]: "db-backups-prod",
      [ENV.prefix]: "supabase",
      [ENV.schemas]: "pmoves_core,archon",
      [ENV.natsUrl]: "tls://nats.nats.svc.cluster.local:4222",
      // production's identity, not its credentials
      [ENV.productionDbId]: "7301234567890123456/postgres",
      // prod lengthens pre_migration and monthly (Pulumi.prod.yaml); the job reads it back below
      [ENV.retentionDays]: "daily=7,manual=30,pre_migration=180,monthly=400",
    });
    expect(object(dev, "ConfigMap", "db-backup-settings").inputs.data[ENV.environment]).toBe("dev");
    // What the job shows as expiry is what the bucket's lifecycle rules enforce.
    for (const run of [dev, prod]) {
      const data = object(run, "ConfigMap", "db-backup-settings").inputs.data as Record<string, string>;
      const rules = ofType(run, "minio:index/ilmPolicy:IlmPolicy")[0]!.inputs.rules as { filter: string; expiration?: string }[];
      for (const [type, days] of Object.entries(retentionFromEnv(data))) {
        expect(rules.some((r) => r.filter.includes(`/${type}/`) && r.expiration === `${days}d`), type).toBe(true);
      }
    }
  });

  it("one Secret per workload, each holding only what that workload needs, as Pulumi secrets", () => {
    const data = (run: ProgramRun, workload: keyof typeof SECRET_NAMES) => object(run, "Secret", SECRET_NAMES[workload]);
    const key = (w: string) => ({ [ENV.accessKey]: `db-backup-prod-${w}`, [ENV.secretKey]: `mock-generated-secret-for-db-backup-prod-${w}` });
    expect(objectsOfKind(prod, "Secret").map((s) => s.inputs.metadata.name).sort()).toEqual(Object.values(SECRET_NAMES).sort());
    // Backups: the source (a read-only role) and the backup key.
    expect(data(prod, "backup").inputs.stringData).toEqual({ ...key("backup"), [ENV.sourceDbUrl]: PROD_SECRETS.sourceDbUrl });
    // The drill: the scratch server and the verify key.
    expect(data(prod, "verify").inputs.stringData).toEqual({ ...key("verify"), [ENV.verifyDbUrl]: PROD_SECRETS.verifyDbUrl });
    // The status check: the read-only status key, no database credential at all.
    expect(data(prod, "status").inputs.stringData).toEqual(key("status"));
    // Restores alone hold a write URL: the environment's own (`--target prod`). prod recognises
    // production by productionDbId (ConfigMap), so no PRODUCTION_DB_URL.
    expect(data(prod, "restore").inputs.stringData).toEqual({ ...key("restore"), PROD_DB_URL: PROD_SECRETS.restoreDbUrl });
    for (const run of [dev, prod]) {
      for (const secret of objectsOfKind(run, "Secret")) {
        expect(secret.secretPaths, secret.inputs.metadata.name).toEqual(["stringData"]);
        for (const value of Object.values(secret.masked.stringData)) expect(value).toBe(MASK);
      }
      const everythingMasked = JSON.stringify(run.resources.map((r) => r.masked));
      for (const value of [...SECRET_VALUES, ...Object.values(PROD_SECRETS), "mock-generated-secret-for"]) expect(everythingMasked).not.toContain(value);
      // Write URLs only in the restore Secret; the source URL only in the backup Secret.
      for (const secret of objectsOfKind(run, "Secret")) {
        const text = JSON.stringify(secret.inputs.stringData);
        const name = secret.inputs.metadata.name;
        expect(text.includes("write-pass-41c6d2"), name).toBe(name === SECRET_NAMES.restore);
        expect(text.includes("src-pass-3f9a1c"), name).toBe(name === SECRET_NAMES.backup);
        expect(text.includes("scratch-pass-8d2e4b"), name).toBe(name === SECRET_NAMES.verify);
      }
    }
    expect(data(dev, "restore").inputs.stringData).toEqual({ ...{ [ENV.accessKey]: "db-backup-dev-restore", [ENV.secretKey]: "mock-generated-secret-for-db-backup-dev-restore" }, DEV_DB_URL: TEST_SECRETS.restoreDbUrl });
  });

  it("optional secrets go to the workloads that use them: NATS to publishers, the Supabase token to the status check", async () => {
    const run = await stackRun("dev", {
      secrets: { ...TEST_SECRETS, natsToken: "nats-token-9e1f", supabaseAccessToken: "sbp-token-77aa" },
      set: { "db-backup:network": { ...devNetwork(), supabaseApi: [{ cidr: "0.0.0.0/0", ports: [443] }] }, "db-backup:supabaseProjectId": "abcdefghijklmnop" },
    });
    const keys = (w: keyof typeof SECRET_NAMES) => Object.keys(object(run, "Secret", SECRET_NAMES[w]).inputs.stringData).sort();
    expect(keys("backup")).toContain(ENV.natsToken);
    expect(keys("verify")).toContain(ENV.natsToken);
    expect(keys("restore")).toContain(ENV.natsToken);
    expect(keys("status")).toEqual([ENV.accessKey, ENV.secretKey, ENV.supabaseAccessToken].sort());
    for (const w of ["backup", "verify", "restore"] as const) expect(keys(w)).not.toContain(ENV.supabaseAccessToken);
  });

  it("a dev stack recognises production by identity and never holds production's credentials; productionDbUrl is the restore-only fallback", async () => {
    expect(object(dev, "ConfigMap", "db-backup-settings").inputs.data[ENV.productionDbId]).toBe("7301234567890123456/postgres");
    for (const secret of objectsOfKind(dev, "Secret")) expect(secret.inputs.stringData, secret.inputs.metadata.name).not.toHaveProperty(ENV.productionDbUrl);
    const fallback = await stackRun("dev", {
      unset: ["db-backup:productionDbId"],
      secrets: { ...TEST_SECRETS, productionDbUrl: "postgres://reader:prod-pass-1d2c@prod.db.internal:5432/postgres" },
    });
    for (const secret of objectsOfKind(fallback, "Secret")) {
      expect(secret.inputs.stringData[ENV.productionDbUrl], secret.inputs.metadata.name).toBe(
        secret.inputs.metadata.name === SECRET_NAMES.restore ? "postgres://reader:prod-pass-1d2c@prod.db.internal:5432/postgres" : undefined,
      );
    }
    // A production stack without productionDbId compares with its own restoreDbUrl (already in that Secret).
    const prodWithoutId = await stackRun("prod", { unset: ["db-backup:productionDbId"] });
    expect(object(prodWithoutId, "Secret", SECRET_NAMES.restore).inputs.stringData[ENV.productionDbUrl]).toBe(PROD_SECRETS.restoreDbUrl);
  });

  it("the operators' key is a secret stack output, not in the cluster", () => {
    expect(prod.secretOutputs).toEqual(["operatorSecretKey"]);
    expect(prod.outputs.operatorAccessKey).toBe("db-backup-prod-operator");
    const everything = JSON.stringify(prod.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs));
    expect(everything).not.toContain("db-backup-prod-operator");
  });
});

describe("restore templates", () => {
  it("db-restore is suspended and takes its values from env vars, no shell", () => {
    const spec = object(prod, "CronJob", "db-restore").inputs.spec;
    expect(spec.suspend).toBe(true);
    const container = spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command).toEqual(JOB_COMMAND);
    expect(container.args).toEqual([
      "restore", "$(BACKUP_ID)",
      "--target", "$(RESTORE_TARGET)",
      "--approved-by", "$(RESTORE_APPROVED_BY)",
      "--confirm", "$(RESTORE_CONFIRM)",
      "--reason", "$(RESTORE_REASON)",
      "--request-id", "$(RESTORE_REQUEST_ID)",
      "--clean",
    ]);
    // Every variable the args expand is defined, so Kubernetes never passes "$(X)" through literally.
    const defined = new Set(container.env.map((e: { name: string }) => e.name));
    for (const arg of container.args as string[]) {
      const variable = /^\$\((\w+)\)$/.exec(arg)?.[1];
      if (variable) expect(defined.has(variable), variable).toBe(true);
    }
    expect(container.env.find((e: { name: string }) => e.name === "RESTORE_TARGET").value).toBe("prod");
  });

  it("the pre-migration template takes its tag from BACKUP_TAG", () => {
    const spec = object(dev, "CronJob", "db-backup-pre-migration").inputs.spec;
    expect(spec.suspend).toBe(true);
    const container = spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.args).toEqual(["create", "--type", "pre_migration", "--tag", "$(BACKUP_TAG)"]);
    expect(container.env).toEqual([{ name: "BACKUP_TAG", value: "" }]);
  });
});

describe("config-driven one-off restore", () => {
  it("dev: restore.backupId + restore.requestId create db-restore-<requestId>, which no later `pulumi up` replaces or deletes", async () => {
    const run = await stackRun("dev", { set: { "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "inc-7" } } });
    const job = object(run, "Job", "db-restore-inc-7");
    // A new image digest (or any spec change) must not kill a running restore: the spec is fixed at
    // creation, removing the config forgets the Job instead of deleting it, and `pulumi up` does not wait for it.
    expect(job.options.ignoreChanges).toEqual(["spec"]);
    expect(job.options.retainOnDelete).toBe(true);
    expect(job.options.deleteBeforeReplace).toBe(false);
    expect(job.name).toBe("restore-inc-7"); // a new requestId is a new resource, never a replacement
    expect(job.inputs.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    expect(job.inputs.spec.ttlSecondsAfterFinished).toBe(AD_HOC_JOB_TTL_SECONDS);
    expect(job.inputs.spec.template.spec.containers[0].envFrom[1]).toEqual({ secretRef: { name: SECRET_NAMES.restore } });
    // Created only once the admission policy (which must admit it) is in place.
    const admission = run.resources.filter((r) => /ValidatingAdmissionPolicy/.test(r.type)).map((r) => r.name);
    expect(admission).toHaveLength(4);
    for (const name of admission) expect(job.options.dependsOn.some((urn) => urn.endsWith(`::${name}`)), name).toBe(true);
    expect(job.inputs.spec.backoffLimit).toBe(0);
    expect(job.inputs.spec.template.spec.containers[0].args).toEqual([
      "restore", "backup_20250607_120000", "--target", "dev", "--confirm", "backup_20250607_120000", "--request-id", "inc-7", "--clean",
    ]);
    expect(run.outputs.restoreJob).toBe("db-restore-inc-7");
  });

  it("prod: with restore.approvedBy the approval reaches the job's gate (preview and up)", async () => {
    for (const preview of [true, false]) {
      const run = await stackRun("prod", {
        preview,
        set: { "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "inc-8", approvedBy: "alice", reason: "INC-8 data loss" } },
      });
      const args = object(run, "Job", "db-restore-inc-8").inputs.spec.template.spec.containers[0].args;
      expect(args).toEqual([
        "restore", "backup_20250607_120000", "--target", "prod", "--confirm", "backup_20250607_120000",
        "--request-id", "inc-8", "--approved-by", "alice", "--reason", "INC-8 data loss", "--clean",
      ]);
    }
  });

  it("an extra target from targetDbUrls is reachable as <NAME>_DB_URL", async () => {
    const run = await stackRun("dev", {
      secrets: { ...TEST_SECRETS, targetDbUrls: { staging: "postgres://stage:stage-pass@staging.db:5432/postgres" } },
      set: { "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "copy-to-staging", target: "staging" } },
    });
    expect(object(run, "Secret", SECRET_NAMES.restore).inputs.stringData.STAGING_DB_URL).toBe("postgres://stage:stage-pass@staging.db:5432/postgres");
    for (const w of ["backup", "verify", "status"] as const) expect(object(run, "Secret", SECRET_NAMES[w]).inputs.stringData).not.toHaveProperty("STAGING_DB_URL");
    expect(object(run, "Job", "db-restore-copy-to-staging").inputs.spec.template.spec.containers[0].args.slice(0, 4)).toEqual([
      "restore", "backup_20250607_120000", "--target", "staging",
    ]);
  });
});

describe("index.ts, the entry point `pulumi up` runs", () => {
  it("exports the stack outputs when loaded under mocks", async () => {
    vi.resetModules();
    let registered = 0;
    await pulumi.runtime.setMocks(
      { newResource: (a) => ((registered += 1), { id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
      PROJECT,
      "prod",
      false,
    );
    const config = Object.fromEntries(Object.entries(PROD_SECRETS).map(([k, v]) => [`${PROJECT}:${k}`, v]));
    const { readStackConfig } = await import("../../infra/testing/capture");
    pulumi.runtime.setAllConfig({ ...readStackConfig("prod"), ...config }, Object.keys(config));
    const entry = await import("../../infra/index");
    const bucket = await new Promise((resolve) => entry.bucket.apply(resolve));
    await pulumi.runtime.disconnect();
    expect(bucket).toBe("db-backups-prod");
    expect(entry.restoreTemplate).toBe("db-restore");
    expect(registered).toBeGreaterThan(20);
  });
});

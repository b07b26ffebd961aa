// The real program, run under mocks with the real Pulumi.dev.yaml / Pulumi.prod.yaml: what each
// stack creates, and proof that the mocks (not echoed inputs) answered.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { EXPIRY_TAG, retentionRules } from "../../job/core/catalog";
import { ENV, retentionFromEnv } from "../../job/core/settings";
import { lifecycleRules } from "../../infra/lifecycle";
import { jobPolicy, operatorPolicy } from "../../infra/policies";
import { MASK, MOCK_IMAGE_DIGEST, PROJECT, type ProgramRun } from "../../infra/testing/capture";
import { APP_UID, JOB_COMMAND } from "../../infra/workload";
import { SECRET_VALUES, TEST_SECRETS, object, objectsOfKind, ofType, podTemplates, stackRun } from "../helpers/infra-stacks";

let dev: ProgramRun;
let prod: ProgramRun;
beforeAll(async () => {
  dev = await stackRun("dev");
  prod = await stackRun("prod");
});

const bucketOf = (run: ProgramRun) => ofType(run, "minio:index/s3Bucket:S3Bucket")[0]!;

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

  it("has object locking in prod only, as the stacks' config says", () => {
    expect(bucketOf(prod).inputs).toMatchObject({ bucket: "db-backups-prod", objectLocking: true });
    expect(bucketOf(dev).inputs).toMatchObject({ bucket: "db-backups-dev", objectLocking: false });
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
    for (const rule of rules(prod).filter((r: { expiration?: string }) => /d$/.test(r.expiration ?? ""))) {
      expect(rule.tags).toEqual({ [EXPIRY_TAG.key]: EXPIRY_TAG.value });
    }
  });

  it("the job and operator users get exactly the pure policies, attached to them", () => {
    for (const run of [dev, prod]) {
      const bucket = bucketOf(run).inputs.bucket;
      const policies = ofType(run, "minio:index/iamPolicy:IamPolicy");
      const policyOf = (suffix: string) => JSON.parse(policies.find((p) => p.inputs.name.endsWith(suffix))!.inputs.policy);
      expect(policyOf("-job")).toEqual(jobPolicy(bucket, "supabase"));
      expect(policyOf("-operator")).toEqual(operatorPolicy(bucket, "supabase"));
      const attachments = ofType(run, "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment").map((a) => a.inputs);
      expect(attachments).toEqual(
        expect.arrayContaining([
          { userName: `db-backup-${run.stack}-job`, policyName: `db-backup-${run.stack}-job` },
          { userName: `db-backup-${run.stack}-operator`, policyName: `db-backup-${run.stack}-operator` },
        ]),
      );
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
      [ENV.natsUrl]: "nats://nats.nats.svc.cluster.local:4222",
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

  it("Secret holds URLs and the job's key as Pulumi secrets; nothing secret appears anywhere else", () => {
    const secret = object(prod, "Secret", "db-backup-secrets");
    expect(secret.secretPaths).toEqual(["stringData"]);
    expect(secret.inputs.stringData).toEqual({
      [ENV.accessKey]: "db-backup-prod-job",
      [ENV.secretKey]: "mock-generated-secret-for-db-backup-prod-job",
      [ENV.sourceDbUrl]: TEST_SECRETS.sourceDbUrl,
      [ENV.verifyDbUrl]: TEST_SECRETS.verifyDbUrl,
      PROD_DB_URL: TEST_SECRETS.sourceDbUrl, // `--target prod` restores into this environment's database
      [ENV.productionDbUrl]: TEST_SECRETS.sourceDbUrl, // prod's own database counts as production by URL too
    });
    for (const value of Object.values(secret.masked.stringData)) expect(value).toBe(MASK);
    for (const run of [dev, prod]) {
      const everythingMasked = JSON.stringify(run.resources.map((r) => r.masked));
      for (const value of [...SECRET_VALUES, "mock-generated-secret-for"]) expect(everythingMasked).not.toContain(value);
    }
    expect(object(dev, "Secret", "db-backup-secrets").inputs.stringData).not.toHaveProperty(ENV.productionDbUrl);
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
  it("dev: restore.backupId + restore.requestId create db-restore-<requestId>, replaced delete-first", async () => {
    const run = await stackRun("dev", { set: { "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "inc-7" } } });
    const job = object(run, "Job", "db-restore-inc-7");
    expect(job.options.deleteBeforeReplace).toBe(true);
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
    expect(object(run, "Secret", "db-backup-secrets").inputs.stringData.STAGING_DB_URL).toBe("postgres://stage:stage-pass@staging.db:5432/postgres");
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
    const config = Object.fromEntries(Object.entries(TEST_SECRETS).map(([k, v]) => [`${PROJECT}:${k}`, v]));
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

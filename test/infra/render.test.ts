// `npm run render -- <stack>` writes what `pulumi up` would create: one standard manifest per
// Kubernetes object, MinIO/Docker inputs as YAML, secrets masked, nothing secret in the repo.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { SECRET_KEYS } from "../../infra/config";
import { renderStack, type RenderedFile } from "../../infra/render";
import { MASK, REPO_ROOT, placeholderSecrets } from "../../infra/testing/capture";
import { kubernetesObjects, stackRun } from "../helpers/infra-stacks";

const out = fs.mkdtempSync(path.join(os.tmpdir(), "db-backup-render-"));
const rendered: Record<string, RenderedFile[]> = {};
beforeAll(async () => {
  for (const stack of ["dev", "prod"]) rendered[stack] = await renderStack(stack, path.join(out, stack));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const read = (file: string) => YAML.parse(fs.readFileSync(file, "utf8"));

describe("render", () => {
  it("writes one manifest per Kubernetes object, identical to what the program registers (masked)", async () => {
    for (const stack of ["dev", "prod"]) {
      const run = await stackRun(stack);
      const files = fs.readdirSync(path.join(out, stack, "kubernetes"));
      expect(files).toHaveLength(kubernetesObjects(run).length);
      for (const object of kubernetesObjects(run)) {
        const file = path.join(out, stack, "kubernetes", `${object.inputs.kind.toLowerCase()}-${object.inputs.metadata.name}.yaml`);
        expect(read(file), file).toEqual(object.masked);
      }
    }
  });

  it("writes the MinIO resources' inputs and options, the Docker image's build, and the stack outputs", () => {
    for (const stack of ["dev", "prod"]) {
      const written = rendered[stack]!.map((f) => f.path);
      expect(new Set(written).size, "no file written twice").toBe(written.length);
    }
    const bucket = read(path.join(out, "prod", "minio", "s3bucket-backups-bucket.yaml"));
    expect(bucket).toMatchObject({
      type: "minio:index/s3Bucket:S3Bucket",
      options: { protect: true, retainOnDelete: true },
      inputs: { bucket: "db-backups-prod", objectLocking: true },
    });
    const lifecycle = read(path.join(out, "prod", "minio", "ilmpolicy-backups-lifecycle.yaml"));
    expect(lifecycle.inputs.rules.find((r: { id: string }) => r.id === "monthly-expire").expiration).toBe("400d");
    for (const workload of ["backup", "verify", "status", "restore", "operator"]) {
      const policy = JSON.parse(read(path.join(out, "prod", "minio", `iampolicy-backups-${workload}-policy.yaml`)).inputs.policy);
      expect(policy.Statement.map((s: { Sid: string }) => s.Sid), workload).toEqual(expect.arrayContaining(["NeverAllowed", "NoComplianceMode", "NoRetentionBeyondLongest"]));
    }
    // RBAC, the admission policy and the NetworkPolicies are rendered like everything else.
    for (const file of ["role-db-backup-restorer.yaml", "validatingadmissionpolicy-db-backup-jobs.yaml", "validatingadmissionpolicybinding-db-backup-pods.yaml", "networkpolicy-db-backup-default-deny.yaml"]) {
      expect(fs.existsSync(path.join(out, "prod", "kubernetes", file)), file).toBe(true);
    }
    expect(read(path.join(out, "prod", "minio", "provider-backups-minio.yaml")).inputs.minioPassword).toBe(MASK);
    expect(read(path.join(out, "prod", "docker", "image-job-image.yaml")).inputs.build.dockerfile).toBe("job/Dockerfile");
    expect(read(path.join(out, "prod", "outputs.yaml"))).toMatchObject({ bucket: "db-backups-prod", operatorSecretKey: MASK });
  });

  it("masks every secret: each workload's Secret keeps its keys, no placeholder value survives", () => {
    const keys: Record<string, string[]> = {
      backup: ["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "SUPABASE_DB_URL"],
      verify: ["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "VERIFY_DB_URL"],
      status: ["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"],
      restore: ["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "PROD_DB_URL"],
    };
    for (const [workload, expected] of Object.entries(keys)) {
      const secret = read(path.join(out, "prod", "kubernetes", `secret-db-backup-${workload}.yaml`));
      expect(Object.keys(secret.stringData).sort(), workload).toEqual(expected.sort());
      for (const value of Object.values(secret.stringData)) expect(value).toBe(MASK);
    }
    for (const stack of ["dev", "prod"]) {
      for (const file of rendered[stack]!) {
        const text = fs.readFileSync(file.path, "utf8");
        for (const value of ["render-placeholder", "mock-generated-secret"]) expect(text, file.path).not.toContain(value);
      }
    }
  });

  it("renders the optional secrets a stack holds encrypted (`secure:` in Pulumi.<stack>.yaml), by shape only", () => {
    // Database URLs stand in as URLs with the sslmode a production stack requires, so the program's checks pass.
    const url = "postgres://render-placeholder@render-placeholder.invalid:5432/render-placeholder?sslmode=verify-full";
    expect(placeholderSecrets()).toEqual({
      sourceDbUrl: url,
      verifyDbUrl: url,
      restoreDbUrl: url,
      minioAdminUser: "render-placeholder",
      minioAdminPassword: "render-placeholder",
    });
    expect(placeholderSecrets({ natsToken: true, targetDbUrls: { staging: true } })).toMatchObject({
      natsToken: "render-placeholder",
      targetDbUrls: { staging: url },
    });
  });

  it("runs as `npm run render -- <stack>` and refuses an unknown stack", () => {
    const output = execFileSync("npm", ["run", "--silent", "render", "--", "dev"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(output).toMatch(/rendered \d+ resources of stack dev into rendered\/dev\//);
    expect(fs.existsSync(path.join(REPO_ROOT, "rendered", "dev", "kubernetes", "cronjob-db-backup-daily.yaml"))).toBe(true);
    const render = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "infra/render.ts", ...args], { cwd: REPO_ROOT, encoding: "utf8" });
    const unknown = render("staging");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no stack "staging"');
    expect(render().status).toBe(2);
  });
});

describe("the repository holds no secret values", () => {
  it("Pulumi.<stack>.yaml files set no secret key and carry no encrypted value", () => {
    for (const file of fs.readdirSync(REPO_ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
      const config = (YAML.parse(fs.readFileSync(path.join(REPO_ROOT, file), "utf8")).config ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(SECRET_KEYS)) expect(config, `${file}: ${key}`).not.toHaveProperty(`db-backup:${key}`);
      expect(fs.readFileSync(path.join(REPO_ROOT, file), "utf8"), file).not.toMatch(/secure:|postgres(ql)?:\/\//);
    }
  });
});

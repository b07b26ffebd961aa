// One policy per workload, following the object layout: each reads everything, writes only the
// folders it owns, and none can delete (but the operators'), bypass, tag, hold, reconfigure, or
// lock beyond the longest retention or in COMPLIANCE mode. Applied to a real S3 server in
// policy-s3.test.ts.
import { describe, expect, it } from "vitest";
import { BACKUP_TYPES, longestRetentionDays, objectLayout, retentionRules } from "../../job/core/catalog";
import {
  AREAS,
  BUCKET_CONFIG_WRITES,
  BYPASS,
  DELETE_ACTIONS,
  LEGAL_HOLD_ACTIONS,
  RIGHTS,
  TAGGING_ACTIONS,
  WORKLOADS,
  areaKey,
  asBucketPolicy,
  workloadPolicy,
  type Area,
  type PolicyDocument,
  type Workload,
} from "../../infra/policies";

const BUCKET = "db-backups-prod";
const PREFIX = "supabase";
const RETENTION = retentionRules({ monthly: 400 });
const policy = (w: Workload) => workloadPolicy(w, BUCKET, PREFIX, RETENTION);
const arn = (area: Area) => `arn:aws:s3:::${BUCKET}/${areaKey(PREFIX, area)}`;
const allowedOn = (p: PolicyDocument, action: string) =>
  p.Statement.filter((s) => s.Effect === "Allow" && s.Action.includes(action)).flatMap((s) => s.Resource);
const deniedOn = (p: PolicyDocument, action: string, conditional = false) =>
  p.Statement.filter((s) => s.Effect === "Deny" && s.Action.includes(action) && Boolean(s.Condition) === conditional).flatMap((s) => s.Resource);
const allAllowed = (p: PolicyDocument) => p.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
const WHOLE_BUCKET = [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`];

describe("the layout's folders", () => {
  it("are the catalog's: type folders, runs/, verifications/, requests/, latest.json, latest.sql.gz", () => {
    expect(areaKey(PREFIX, "daily")).toBe(`${objectLayout.typeFolder(PREFIX, "daily")}*`);
    expect(areaKey(PREFIX, "runs")).toBe(`${objectLayout.runsFolder(PREFIX)}*`);
    expect(areaKey(PREFIX, "verifications")).toBe(`${objectLayout.verificationsFolder(PREFIX)}*`);
    expect(areaKey(PREFIX, "requests")).toBe(`${objectLayout.requestsFolder(PREFIX)}*`);
    expect(areaKey(PREFIX, "latest")).toBe(objectLayout.latestKey(PREFIX));
    expect(areaKey(PREFIX, "legacyLatest")).toBe(objectLayout.legacyLatestKey(PREFIX));
  });
});

describe("workloadPolicy", () => {
  it("every key reads every object and version under the prefix, with retention and legal hold, and lists the bucket", () => {
    for (const w of WORKLOADS) {
      for (const action of ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention", "s3:GetObjectLegalHold"]) {
        expect(allowedOn(policy(w), action), `${w} ${action}`).toEqual([`arn:aws:s3:::${BUCKET}/${PREFIX}/*`]);
      }
      for (const action of ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketObjectLockConfiguration"]) {
        expect(allowedOn(policy(w), action), `${w} ${action}`).toEqual([`arn:aws:s3:::${BUCKET}`]);
      }
    }
  });

  it("writes (PutObject, multipart, lock) exactly where the layout says the workload writes", () => {
    const writes: Record<Workload, Area[]> = {
      backup: [...BACKUP_TYPES, "runs", "latest"],
      verify: ["verifications"],
      status: [],
      restore: ["pre_migration", "runs", "requests", "latest"],
      operator: [...BACKUP_TYPES, "runs", "requests", "latest"],
    };
    for (const w of WORKLOADS) {
      for (const action of ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]) {
        expect(allowedOn(policy(w), action).sort(), `${w} ${action}`).toEqual(writes[w].map(arn).sort());
      }
      // Everything the workload does not write is denied outright (status: the whole bucket).
      const notWritten = AREAS.filter((a) => !writes[w].includes(a)).map(arn);
      expect(deniedOn(policy(w), "s3:PutObject").sort(), w).toEqual(w === "status" ? [`arn:aws:s3:::${BUCKET}/*`] : notWritten.sort());
    }
  });

  it("only the drill writes a verdict, and only backups/restores write backups; nobody writes the legacy latest.sql.gz", () => {
    for (const w of WORKLOADS) {
      expect(allowedOn(policy(w), "s3:PutObject").includes(arn("verifications")), w).toBe(w === "verify");
      expect(allowedOn(policy(w), "s3:PutObject")).not.toContain(arn("legacyLatest"));
    }
    expect(allowedOn(policy("verify"), "s3:PutObject")).toEqual([arn("verifications")]);
    expect(deniedOn(policy("backup"), "s3:PutObject")).toEqual(expect.arrayContaining([arn("verifications"), arn("requests")]));
    expect(deniedOn(policy("restore"), "s3:PutObject")).toEqual(expect.arrayContaining([arn("daily"), arn("monthly"), arn("manual"), arn("verifications")]));
  });

  it("the drill extends the retention of backups it does not write; nobody else locks outside its own folders", () => {
    expect(allowedOn(policy("verify"), "s3:PutObjectRetention").sort()).toEqual([arn("verifications"), ...BACKUP_TYPES.map(arn)].sort());
    expect(deniedOn(policy("verify"), "s3:PutObjectRetention")).not.toContain(arn("daily"));
    expect(deniedOn(policy("backup"), "s3:PutObjectRetention").sort()).toEqual([arn("verifications"), arn("requests"), arn("legacyLatest")].sort());
    expect(deniedOn(policy("status"), "s3:PutObjectRetention")).toEqual([`arn:aws:s3:::${BUCKET}/*`]);
    expect(allowedOn(policy("status"), "s3:PutObjectRetention")).toEqual([]);
  });

  it("no key may delete (but the operators', who still cannot bypass), tag, hold or reconfigure: explicit Deny on the whole bucket", () => {
    for (const w of WORKLOADS) {
      const denied = deniedOn(policy(w), BYPASS);
      expect(denied, w).toEqual(WHOLE_BUCKET);
      for (const action of [...TAGGING_ACTIONS, ...LEGAL_HOLD_ACTIONS, ...BUCKET_CONFIG_WRITES, BYPASS]) {
        expect(deniedOn(policy(w), action), `${w} ${action}`).toEqual(WHOLE_BUCKET);
        expect(allAllowed(policy(w)), `${w} ${action}`).not.toContain(action);
      }
      for (const action of DELETE_ACTIONS) {
        if (w === "operator") {
          expect(allowedOn(policy(w), action)).toEqual([`arn:aws:s3:::${BUCKET}/${PREFIX}/*`]);
          expect(deniedOn(policy(w), action)).toEqual([]);
        } else {
          expect(deniedOn(policy(w), action), `${w} ${action}`).toEqual(WHOLE_BUCKET);
          expect(allAllowed(policy(w))).not.toContain(action);
        }
      }
      for (const action of allAllowed(policy(w))) expect(action).not.toContain("*");
    }
    expect(RIGHTS.operator.deletes && !RIGHTS.backup.deletes).toBe(true);
  });

  it("bounds every lock: no COMPLIANCE mode, no retention beyond the longest, no lock or legal hold on upload", () => {
    for (const w of WORKLOADS) {
      const conditional = policy(w).Statement.filter((s) => s.Condition);
      expect(conditional.find((s) => s.Sid === "NoComplianceMode")).toEqual({
        Sid: "NoComplianceMode",
        Effect: "Deny",
        Action: ["s3:PutObject", "s3:PutObjectRetention"],
        Resource: [`arn:aws:s3:::${BUCKET}/*`],
        Condition: { StringEquals: { "s3:object-lock-mode": ["COMPLIANCE"] } },
      });
      // MinIO accepts this key with PutObjectRetention only: a statement of its own.
      expect(conditional.find((s) => s.Sid === "NoRetentionBeyondLongest")).toEqual({
        Sid: "NoRetentionBeyondLongest",
        Effect: "Deny",
        Action: ["s3:PutObjectRetention"],
        Resource: [`arn:aws:s3:::${BUCKET}/*`],
        Condition: { NumericGreaterThan: { "s3:object-lock-remaining-retention-days": "400" } },
      });
      expect(conditional.find((s) => s.Sid === "NoLockOnUpload")?.Condition).toEqual({ StringLike: { "s3:object-lock-mode": ["*"] } });
      expect(conditional.find((s) => s.Sid === "NoLegalHoldOnUpload")?.Condition).toEqual({ StringEquals: { "s3:object-lock-legal-hold": ["ON"] } });
      for (const s of conditional) expect(s.Effect).toBe("Deny");
    }
  });

  it("the longest lock follows the stack's retention and never falls under the restore points' hold", () => {
    const days = (r: typeof RETENTION) =>
      workloadPolicy("backup", BUCKET, PREFIX, r).Statement.find((s) => s.Sid === "NoRetentionBeyondLongest")!.Condition!.NumericGreaterThan!["s3:object-lock-remaining-retention-days"];
    expect(days(retentionRules())).toBe(String(longestRetentionDays(retentionRules())));
    expect(days(retentionRules())).toBe("365");
    expect(days(retentionRules({ monthly: 730 }))).toBe("730");
  });

  it("touches nothing but its bucket", () => {
    for (const w of WORKLOADS) {
      for (const resource of policy(w).Statement.flatMap((s) => s.Resource)) expect(resource).toMatch(new RegExp(`^arn:aws:s3:::${BUCKET}(/|$)`));
    }
  });
});

describe("asBucketPolicy", () => {
  it("keeps every statement (conditions too) and adds the principal", () => {
    const bucketPolicy = asBucketPolicy(policy("backup"), "arn:aws:iam:::user/x");
    expect(bucketPolicy.Statement).toHaveLength(policy("backup").Statement.length);
    for (const [i, s] of bucketPolicy.Statement.entries()) {
      expect(s.Principal).toEqual({ AWS: ["arn:aws:iam:::user/x"] });
      expect(s.Condition).toEqual(policy("backup").Statement[i]!.Condition);
    }
  });
});

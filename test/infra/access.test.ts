// Who may restore production: the Roles and RoleBindings the stack renders, and the admission
// policy that admits only the stack's own Jobs (and the pods they control) in the namespace. The
// policy's runs are checked against the CronJobs the same run renders, so a template that changes
// without the policy following fails here.
import { beforeAll, describe, expect, it } from "vitest";
import { JOB_POLICY, POD_POLICY, ROLE_NAMES, breakGlassMatchConditions, cel, jobValidations, type AdmissionInputs } from "../../infra/access";
import { TEMPLATE_VARS } from "../../infra/components/restore";
import { MOCK_IMAGE_DIGEST, type ProgramRun } from "../../infra/testing/capture";
import { JOB_COMMAND, SECRET_NAMES, SERVICE_ACCOUNT } from "../../infra/workload";
import { TEST_CA, maybeObject, object, objectsOfKind, podTemplates, stackRun } from "../helpers/infra-stacks";

let prod: ProgramRun;
let withRestore: ProgramRun;
beforeAll(async () => {
  prod = await stackRun("prod");
  withRestore = await stackRun("prod", {
    set: {
      "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "inc-9", approvedBy: "alice" },
      "db-backup:access": { viewers: { groups: ["platform-team"] }, restorers: { users: ["carol@example.com"] }, breakGlass: { users: ["bob"], groups: ["sre-oncall"] } },
    },
  });
});

const rules = (run: ProgramRun, role: string) => object(run, "Role", role).inputs.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
const grants = (run: ProgramRun, role: string, resource: string, verb: string) =>
  rules(run, role).some((r) => r.resources.includes(resource) && r.verbs.includes(verb));

describe("Roles", () => {
  it("viewer reads CronJobs, Jobs, Pods, logs and events, and nothing else", () => {
    for (const [resource, group] of [["cronjobs", "batch"], ["jobs", "batch"], ["pods", ""], ["pods/log", ""], ["events", ""], ["events", "events.k8s.io"]] as const) {
      expect(rules(prod, ROLE_NAMES.viewer).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && ["get", "list", "watch"].every((v) => r.verbs.includes(v))), resource).toBe(true);
    }
    for (const r of rules(prod, ROLE_NAMES.viewer)) expect(r.verbs).toEqual(["get", "list", "watch"]);
    expect(grants(prod, ROLE_NAMES.viewer, "secrets", "get")).toBe(false);
  });

  it("restorer may create Jobs (from the templates) and nothing a secret could leak through: no pods, secrets, exec, CronJob edits", () => {
    expect(grants(prod, ROLE_NAMES.restorer, "jobs", "create")).toBe(true);
    for (const [resource, verb] of [["pods", "create"], ["secrets", "get"], ["secrets", "list"], ["pods/exec", "create"], ["cronjobs", "patch"], ["cronjobs", "create"], ["configmaps", "update"]]) {
      expect(grants(prod, ROLE_NAMES.restorer, resource!, verb!), `${resource} ${verb}`).toBe(false);
    }
    expect(rules(prod, ROLE_NAMES.restorer).flatMap((r) => r.verbs).filter((v) => !["get", "list", "watch"].includes(v))).toEqual(["create"]);
  });

  it("break-glass may create pods and read the stack's Secrets, by name only", () => {
    expect(grants(prod, ROLE_NAMES.breakGlass, "pods", "create")).toBe(true);
    const secrets = rules(prod, ROLE_NAMES.breakGlass).filter((r) => r.resources.includes("secrets"));
    expect(secrets).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: Object.values(SECRET_NAMES) }]);
  });

  it("RoleBindings bind the stack's subjects; a role nobody is given has no binding", () => {
    const binding = (run: ProgramRun, role: string) => maybeObject(run, "RoleBinding", role)?.inputs;
    expect(binding(withRestore, ROLE_NAMES.viewer)).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: ROLE_NAMES.viewer },
      subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "platform-team" }],
    });
    expect(binding(withRestore, ROLE_NAMES.restorer)!.subjects).toEqual([{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "carol@example.com" }]);
    expect(binding(withRestore, ROLE_NAMES.breakGlass)!.subjects).toEqual([
      { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "sre-oncall" },
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "bob" },
    ]);
    // Pulumi.prod.yaml gives break-glass to nobody.
    expect(binding(prod, ROLE_NAMES.breakGlass)).toBeUndefined();
    expect(binding(prod, ROLE_NAMES.restorer)!.subjects).toEqual([{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "db-restorers" }]);
  });
});

const NO_INPUTS: AdmissionInputs = {
  image: "",
  command: [],
  serviceAccountName: "",
  configMaps: [],
  secrets: [],
  envNames: [],
  runs: [],
  breakGlass: { users: [], groups: [] },
};

describe("the admission policy", () => {
  const policy = (run: ProgramRun, name: string) => object(run, "ValidatingAdmissionPolicy", name).inputs;
  const expressions = (run: ProgramRun, name: string) => (policy(run, name).spec.validations as { expression: string }[]).map((v) => v.expression).join("\n");

  it("is bound with Deny to the stack's namespace only, and fails closed", () => {
    for (const name of [JOB_POLICY, POD_POLICY]) {
      expect(object(prod, "ValidatingAdmissionPolicyBinding", name).inputs.spec).toEqual({
        policyName: name,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "db-backup" } } },
      });
      expect(policy(prod, name).spec.failurePolicy).toBe("Fail");
      expect(policy(prod, name).apiVersion).toBe("admissionregistration.k8s.io/v1");
    }
    expect(policy(prod, JOB_POLICY).spec.matchConstraints.resourceRules).toEqual([{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }]);
    expect(policy(prod, POD_POLICY).spec.matchConstraints.resourceRules).toEqual([
      { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] },
    ]);
  });

  it("admits the stack's image by digest and the job's command only", () => {
    const image = podTemplates(prod)[0]!.spec.containers[0].image as string;
    expect(image).toMatch(new RegExp(`@${MOCK_IMAGE_DIGEST}$`));
    for (const name of [JOB_POLICY, POD_POLICY]) {
      expect(expressions(prod, name)).toContain(`c.image == ${JSON.stringify(image)}`);
      expect(expressions(prod, name)).toContain(`c.command == ${cel(JOB_COMMAND)}`);
      expect(expressions(prod, name)).toContain(`variables.spec.serviceAccountName == "${SERVICE_ACCOUNT}"`);
      expect(expressions(prod, name)).toContain("variables.spec.automountServiceAccountToken == false");
    }
  });

  it("admits exactly the runs the stack renders: each CronJob's (and the one-off restore's) args with its Secret", () => {
    for (const run of [prod, withRestore]) {
      const pods = podTemplates(run);
      expect(pods.length).toBe(objectsOfKind(run, "CronJob").length + objectsOfKind(run, "Job").length);
      const literal = /\[\[\[.*?\]\]\]\.exists\(r,/.exec(expressions(run, JOB_POLICY))![0].replace(/\.exists\(r,$/, "");
      const runs = JSON.parse(literal) as [string[], string[]][];
      const rendered = pods.map((p) => [p.spec.containers[0].args, p.spec.containers[0].envFrom.filter((e: { secretRef?: unknown }) => e.secretRef).map((e: { secretRef: { name: string } }) => e.secretRef.name)]);
      expect(runs.map((r) => JSON.stringify(r)).sort()).toEqual(rendered.map((r) => JSON.stringify(r)).sort());
    }
    expect(expressions(withRestore, JOB_POLICY)).toContain('["restore", "backup_20250607_120000", "--target", "prod"');
    expect(expressions(prod, JOB_POLICY)).not.toContain("backup_20250607_120000");
  });

  it("admits only the templates' variables as plain values, the stack's ConfigMaps and Secrets, emptyDir volumes, one container", () => {
    const text = expressions(prod, JOB_POLICY);
    expect(text).toContain(`e.name in ${cel(TEMPLATE_VARS)} && !has(e.valueFrom)`);
    const templateVars = podTemplates(prod).flatMap((p) => (p.spec.containers[0].env ?? []).map((e: { name: string }) => e.name));
    expect([...new Set(templateVars)].sort()).toEqual([...TEMPLATE_VARS].sort());
    expect(text).toContain(`e.secretRef.name in ${cel(Object.values(SECRET_NAMES))}`);
    expect(text).toContain('e.configMapRef.name in ["db-backup-settings"]');
    expect(text).toContain('has(v.emptyDir) || (has(v.configMap) && v.configMap.name in ["db-backup-settings"])');
    expect(text).toContain("size(variables.spec.containers) == 1");
  });

  it("pods: only those a Job controls, same shape; an update may not change the image or add a debug container", () => {
    const text = expressions(prod, POD_POLICY);
    expect(policy(prod, POD_POLICY).spec.variables).toEqual([{ name: "spec", expression: "object.spec" }]);
    expect(policy(prod, JOB_POLICY).spec.variables).toEqual([{ name: "spec", expression: "object.spec.template.spec" }]);
    expect(text).toContain('r.apiVersion == "batch/v1" && r.kind == "Job" && has(r.controller) && r.controller == true');
    expect(text).toContain("oldObject.spec.containers.exists(o, o.name == c.name && o.image == c.image)");
    // The pod checks are the Job checks, on CREATE, but for those on the Job itself (told apart by
    // their messages, which do not depend on the stack).
    const jobOnlyMessages = jobValidations(NO_INPUTS).map((v) => v.message);
    const validations = policy(prod, JOB_POLICY).spec.validations as { expression: string; message: string }[];
    const jobOnly = validations.filter((v) => jobOnlyMessages.includes(v.message)).map((v) => v.expression);
    expect(jobOnly.length).toBe(jobOnlyMessages.length);
    const podSpecChecks = validations.filter((v) => !jobOnlyMessages.includes(v.message));
    expect(podSpecChecks.length).toBe(validations.length - jobOnly.length);
    for (const check of podSpecChecks) {
      expect(text).toContain(`request.operation != "CREATE" || (${check.expression})`);
    }
    for (const expression of jobOnly) expect(text).not.toContain(expression);
  });

  it("break-glass subjects are exempt; without any, nobody is", () => {
    expect(policy(prod, JOB_POLICY).spec.matchConditions).toBeUndefined();
    for (const name of [JOB_POLICY, POD_POLICY]) {
      expect(policy(withRestore, name).spec.matchConditions).toEqual(breakGlassMatchConditions({ users: ["bob"], groups: ["sre-oncall"] }));
    }
    expect(breakGlassMatchConditions({ users: ["bob"], groups: ["sre-oncall"] })[0]!.expression).toBe(
      '!(request.userInfo.username in ["bob"]) && (!has(request.userInfo.groups) || !request.userInfo.groups.exists(g, g in ["sre-oncall"]))',
    );
  });

  it("a CA bundle's ConfigMap joins what pods may take", async () => {
    const run = await stackRun("prod", { set: { "db-backup:tls": { caBundle: TEST_CA } } });
    expect(expressions(run, JOB_POLICY)).toContain('v.configMap.name in ["db-backup-settings", "db-backup-ca"]');
  });
});

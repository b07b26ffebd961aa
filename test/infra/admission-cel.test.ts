// The admission policy's CEL, run: the two ValidatingAdmissionPolicies the stacks render
// (db-backup-jobs, db-backup-pods), their matchConditions, variables and validations, and their
// bindings' selection, evaluated with cel-js (@marcbachmann/cel-js) against AdmissionReview-like
// requests built from the RENDERED CronJobs: a Job as `kubectl create job --from=cronjob/…` makes it
// (optionally piped through `kubectl set env --local`, as in the README's runbooks), as the CronJob
// controller makes it, the pod the Job controller makes from it, and their attacks. access.test.ts
// checks what the expressions say; this file checks what they do.
//
// How a request is decided here, as the API server does it (admissionregistration.k8s.io/v1):
// - a policy applies when one of its matchConstraints.resourceRules matches the request and its
//   binding's matchResources selects the namespace; then every matchCondition must be true, or the
//   policy is skipped (that is how break-glass subjects are exempt);
// - variables are evaluated in order (each may use the earlier ones), then every validation; one
//   that is false denies (the binding's validationActions has Deny), and one that fails to evaluate
//   (e.g. "no such key") is handled by failurePolicy (Fail: denied);
// - integers in objects are CEL ints (BigInt), as the API server's typed objects have them.
// Kubernetes-specific CEL libraries (quantity, url, ip, authorizer, …): the policies use none, and a
// test below type-checks every expression in an environment that has only CEL's standard library,
// so a policy that starts to use one fails here until the function is implemented for the test.
// Not modelled: the OpenAPI type-check and the cost budget the API server applies when a policy
// is created.
import { Environment } from "@marcbachmann/cel-js";
import { beforeAll, describe, expect, it } from "vitest";
import { JOB_POLICY, POD_POLICY } from "../../infra/access";
import { TEMPLATE_VARS } from "../../infra/components/restore";
import { MOCK_IMAGE_DIGEST, type ProgramRun } from "../../infra/testing/capture";
import { SECRET_NAMES, SERVICE_ACCOUNT } from "../../infra/workload";
import { TEST_CA, object, objectsOfKind, stackRun } from "../helpers/infra-stacks";

// ---- The stacks -------------------------------------------------------------------------------

const BREAK_GLASS = { users: ["bob"], groups: ["sre-oncall"] };
const RESTORE_REQUEST = { backupId: "backup_20250607_120000", requestId: "inc-9", approvedBy: "alice" };

interface Stack {
  label: string;
  run: ProgramRun;
  /** Whether this run exempts BREAK_GLASS. */
  breakGlass: boolean;
}
const stacks: Stack[] = [];
const stackNamed = (label: string) => stacks.find((s) => s.label === label)!;

beforeAll(async () => {
  // The stacks as they are (nobody exempt), and with what a stack may add: a one-off restore,
  // break-glass subjects, a CA bundle (a ConfigMap volume in every pod).
  const extras = {
    "db-backup:restore": RESTORE_REQUEST,
    "db-backup:access": { restorers: { groups: ["db-restorers"] }, breakGlass: BREAK_GLASS },
    "db-backup:tls": { caBundle: TEST_CA },
  };
  for (const stack of ["dev", "prod"]) {
    stacks.push({ label: stack, run: await stackRun(stack), breakGlass: false });
    stacks.push({ label: `${stack}+restore+break-glass+ca`, run: await stackRun(stack, { set: extras }), breakGlass: true });
  }
});

// ---- Who asks ---------------------------------------------------------------------------------

interface UserInfo {
  username: string;
  groups?: string[];
}
const AUTHENTICATED = ["system:authenticated"];
const RESTORER: UserInfo = { username: "carol@example.com", groups: ["db-restorers", ...AUTHENTICATED] };
const controller = (name: string): UserInfo => ({
  username: `system:serviceaccount:kube-system:${name}`,
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", ...AUTHENTICATED],
});
const CRONJOB_CONTROLLER = controller("cronjob-controller");
const JOB_CONTROLLER = controller("job-controller");
const DEPLOYER: UserInfo = { username: "pulumi-deployer", groups: ["platform-admins", ...AUTHENTICATED] };

// ---- Objects as the API server sees them ------------------------------------------------------

const NAMESPACE = "db-backup";
const clone = <T>(value: T): T => structuredClone(value);

/** What the API server adds to a pod spec before admission (defaults); none of it may matter. */
function defaultedPodSpec(spec: any): any {
  const s = clone(spec);
  s.dnsPolicy ??= "ClusterFirst";
  s.schedulerName ??= "default-scheduler";
  s.terminationGracePeriodSeconds ??= 30;
  if (s.serviceAccountName !== undefined) s.serviceAccount ??= s.serviceAccountName; // the deprecated alias
  for (const c of s.containers ?? []) {
    c.imagePullPolicy ??= "IfNotPresent";
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    // `value: ""` is omitted when serialized (omitempty): `- name: BACKUP_ID`.
    if (c.env) c.env = c.env.map((e: any) => (e.value === "" ? { name: e.name } : e));
  }
  for (const v of s.volumes ?? []) if (v.configMap) v.configMap.defaultMode ??= 420;
  return s;
}

/** `kubectl set env --local -f - NAME=value …`: replaces a variable's value (dropping any
 * valueFrom) or appends it, in every container. */
function kubectlSetEnv(podSpec: any, values: Record<string, string>): void {
  for (const c of podSpec.containers) {
    c.env ??= [];
    for (const [name, value] of Object.entries(values)) {
      const found = c.env.find((e: any) => e.name === name);
      if (found) {
        delete found.valueFrom;
        found.value = value;
      } else c.env.push({ name, value });
    }
  }
}

/** What the API server adds to a Job spec before admission (defaults); none of it may matter. */
function defaultedJobSpec(spec: any): any {
  const s = clone(spec);
  if (s.parallelism === undefined && s.completions === undefined) s.completions = 1;
  s.parallelism ??= 1;
  s.backoffLimit ??= 6;
  s.completionMode ??= "NonIndexed";
  s.suspend ??= false;
  s.podReplacementPolicy ??= "TerminatingOrFailed";
  return s;
}

interface Job {
  apiVersion: "batch/v1";
  kind: "Job";
  metadata: any;
  spec: any;
}

/** `kubectl create job <name> --from=cronjob/<cron>` (then `kubectl set env` if given): the Job
 * the API server is asked to create. */
function jobFromCronJob(cron: any, name: string, setEnv?: Record<string, string>): Job {
  const spec = defaultedJobSpec(cron.spec.jobTemplate.spec);
  if (setEnv) kubectlSetEnv(spec.template.spec, setEnv);
  spec.template.spec = defaultedPodSpec(spec.template.spec);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: clone(cron.spec.jobTemplate.metadata?.labels ?? {}),
      annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
      ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: cron.metadata.name, uid: `uid-${cron.metadata.name}`, controller: true }],
    },
    spec,
  };
}

/** The Job as the CronJob controller creates it on schedule. */
function scheduledJob(cron: any): Job {
  const job = jobFromCronJob(cron, `${cron.metadata.name}-29000000`);
  delete job.metadata.annotations;
  job.metadata.ownerReferences[0].blockOwnerDeletion = true;
  return job;
}

/** A rendered Job (the one-off restore, created by `pulumi up`) as the API server receives it. */
function renderedJob(rendered: any): Job {
  const spec = defaultedJobSpec(rendered.spec);
  spec.template.spec = defaultedPodSpec(spec.template.spec);
  return { apiVersion: "batch/v1", kind: "Job", metadata: { ...clone(rendered.metadata), namespace: NAMESPACE }, spec };
}

/** A Job with its pod spec changed by `change` (an attack): the spec is the Job's template. */
function alteredJob(job: Job, change: (spec: any) => void): Job {
  const altered = clone(job);
  change(altered.spec.template.spec);
  return altered;
}

/** The pod the Job controller creates for `job`. */
function podOf(job: Job): any {
  const name = job.metadata.name as string;
  const uid = `uid-${name}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${name}-x7k2p`,
      generateName: `${name}-`,
      namespace: NAMESPACE,
      labels: {
        ...clone(job.spec.template.metadata?.labels ?? {}),
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
      },
      finalizers: ["batch.kubernetes.io/job-tracking"],
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      ...defaultedPodSpec(job.spec.template.spec),
      priority: 0,
      preemptionPolicy: "PreemptLowerPriority",
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
    },
  };
}

/** A pod written by hand from a Job's template: no owner. */
function handMadePod(job: Job): any {
  const pod = podOf(job);
  pod.metadata = { name: "by-hand", namespace: NAMESPACE, labels: clone(job.spec.template.metadata?.labels ?? {}) };
  return pod;
}

// ---- AdmissionReview requests -----------------------------------------------------------------

interface Request {
  operation: "CREATE" | "UPDATE";
  object: any;
  oldObject?: any;
  user: UserInfo;
  /** e.g. "ephemeralcontainers" (`kubectl debug`). */
  subResource?: string;
  namespace?: string;
}

const resourceOf = (o: any) =>
  o.kind === "Job" ? { group: "batch", version: "v1", resource: "jobs" } : o.kind === "Pod" ? { group: "", version: "v1", resource: "pods" } : undefined;

const celValue = (value: any): any => {
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(celValue);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celValue(v)]));
  return value;
};

function admissionRequest(r: Request): any {
  const gvr = resourceOf(r.object)!;
  const [group, version, kind] = [gvr.group, gvr.version, r.object.kind];
  return {
    uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
    kind: { group, version, kind },
    resource: gvr,
    ...(r.subResource ? { subResource: r.subResource } : {}),
    requestKind: { group, version, kind },
    requestResource: gvr,
    name: r.object.metadata?.name ?? "",
    namespace: r.namespace ?? NAMESPACE,
    operation: r.operation,
    userInfo: { ...r.user },
    dryRun: false,
  };
}

// ---- The policies, evaluated ------------------------------------------------------------------

/** The variables Kubernetes gives a policy's expressions; no other, and only CEL's standard library. */
const celEnv = new Environment();
for (const name of ["object", "oldObject", "request", "params", "namespaceObject", "variables"]) celEnv.registerVariable(name, "dyn");

interface Policies {
  /** ValidatingAdmissionPolicy specs by name. */
  policies: Record<string, any>;
  /** ValidatingAdmissionPolicyBinding specs. */
  bindings: any[];
}

function policiesOf(run: ProgramRun): Policies {
  const policies = Object.fromEntries(objectsOfKind(run, "ValidatingAdmissionPolicy").map((r) => [r.inputs.metadata.name, clone(r.inputs.spec)]));
  const bindings = objectsOfKind(run, "ValidatingAdmissionPolicyBinding").map((r) => clone(r.inputs.spec));
  return { policies, bindings };
}

const matchesRule = (rule: any, req: any) => {
  const resource = req.subResource ? `${req.resource.resource}/${req.subResource}` : req.resource.resource;
  const has = (list: string[] | undefined, value: string) => (list ?? []).includes("*") || (list ?? []).includes(value);
  return has(rule.apiGroups, req.resource.group) && has(rule.apiVersions, req.resource.version) && has(rule.operations, req.operation) && has(rule.resources, resource);
};

function selectsNamespace(selector: any, namespace: string): boolean {
  if (!selector) return true;
  if (selector.matchExpressions) throw new Error("namespaceSelector.matchExpressions: not modelled by this test");
  const labels: Record<string, string> = { "kubernetes.io/metadata.name": namespace };
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

interface PolicyResult {
  policy: string;
  /** Matched by resource rules and binding, and every matchCondition was true. */
  applied: boolean;
  /** What refused it: each failed validation's message, or `error: …` for one that failed to evaluate. */
  refusals: string[];
  denied: boolean;
}

interface Verdict {
  admitted: boolean;
  results: PolicyResult[];
}

function evaluatePolicy(name: string, spec: any, binding: any, r: Request): PolicyResult {
  const request = admissionRequest(r);
  const result: PolicyResult = { policy: name, applied: false, refusals: [], denied: false };
  if (!(spec.matchConstraints?.resourceRules ?? []).some((rule: any) => matchesRule(rule, request))) return result;
  if (!binding || !selectsNamespace(binding.matchResources?.namespaceSelector, request.namespace)) return result;
  // ValidatingAdmissionPolicyBinding (v1) has no matchConditions of its own; the policy's apply.
  expect(binding.matchConditions, `binding of ${name}`).toBeUndefined();
  const failClosed = (spec.failurePolicy ?? "Fail") === "Fail";
  const context: Record<string, any> = {
    object: celValue(r.object),
    oldObject: r.oldObject === undefined ? null : celValue(r.oldObject),
    request: celValue(request),
    params: null,
    namespaceObject: { metadata: { name: request.namespace, labels: { "kubernetes.io/metadata.name": request.namespace } } },
  };
  for (const condition of spec.matchConditions ?? []) {
    let value: unknown;
    try {
      value = celEnv.evaluate(condition.expression, context);
    } catch (error) {
      result.applied = true;
      if (failClosed) result.refusals.push(`error in matchCondition ${condition.name}: ${(error as Error).message.split("\n")[0]}`);
      result.denied = result.refusals.length > 0 && binding.validationActions.includes("Deny");
      return result;
    }
    if (value !== true) return result; // not matched: the policy does not apply
  }
  result.applied = true;
  const variables: Record<string, any> = {};
  context.variables = variables;
  for (const v of spec.variables ?? []) {
    try {
      variables[v.name] = celEnv.evaluate(v.expression, context);
    } catch (error) {
      // Lazily evaluated in Kubernetes: an expression that uses it fails.
      Object.defineProperty(variables, v.name, { get: () => { throw error; }, enumerable: true });
    }
  }
  for (const validation of spec.validations ?? []) {
    try {
      if (celEnv.evaluate(validation.expression, context) !== true) result.refusals.push(validation.message);
    } catch (error) {
      if (failClosed) result.refusals.push(`error: ${validation.message}`);
    }
  }
  result.denied = result.refusals.length > 0 && binding.validationActions.includes("Deny");
  return result;
}

function review(p: Policies, r: Request): Verdict {
  const results = Object.entries(p.policies).map(([name, spec]) =>
    evaluatePolicy(name, spec, p.bindings.find((b) => b.policyName === name), r),
  );
  return { admitted: results.every((x) => !x.denied), results };
}

// Which validation refused, by a word of its message (access.ts's wording, shortened).
const CHECKS: [string, RegExp][] = [
  ["containers", /exactly one container/],
  ["image", /must run the stack's image/],
  ["command", /command must be/],
  ["run", /only the stack's workloads run here/],
  ["envFrom", /env only from the stack's ConfigMaps and Secrets/],
  ["env", /only the templates' variables/],
  ["volumes", /volumes: emptyDir and the stack's ConfigMaps only/],
  ["serviceAccount", /ServiceAccount .*without its token/],
  ["lifecycle", /no lifecycle hooks/],
  ["probes", /no probes/],
  ["dns", /the cluster's network and DNS/],
  ["prefix", /no envFrom prefix/],
  ["restartPolicy", /restartPolicy Never/],
  ["job", /one pod at a time, once/],
  ["backoffLimit", /backoffLimit must be its CronJob's/],
  ["failurePolicy", /no podFailurePolicy or backoffLimitPerIndex/],
  ["owner", /only pods a Job controls/],
  ["update", /image cannot change and no ephemeral/],
];
const checkOf = (refusal: string) => {
  const found = CHECKS.find(([, pattern]) => pattern.test(refusal));
  if (!found) throw new Error(`a refusal this test does not know: ${refusal}`);
  return refusal.startsWith("error") ? `${found[0]}(error)` : found[0];
};
const refusedBy = (v: Verdict) => [...new Set(v.results.flatMap((r) => r.refusals.map(checkOf)))].sort();
const describeVerdict = (v: Verdict) =>
  v.results.filter((r) => r.applied).map((r) => `${r.policy}: ${r.refusals.length === 0 ? "passed" : r.refusals.join(" | ")}`).join("; ") || "no policy applied";

/** Asserts the request is admitted (`expected` empty) or refused by exactly the `expected` checks. */
function expectVerdict(p: Policies, r: Request, expected: string[], label: string): Verdict {
  const verdict = review(p, r);
  const why = `${label}: ${describeVerdict(verdict)}`;
  expect(verdict.admitted, why).toBe(expected.length === 0);
  expect(refusedBy(verdict), why).toEqual([...expected].sort());
  return verdict;
}

// ---- Building blocks from a rendered stack -----------------------------------------------------

const cronJobs = (run: ProgramRun) => objectsOfKind(run, "CronJob").map((r) => r.inputs);
const cronJob = (run: ProgramRun, name: string) => object(run, "CronJob", name).inputs;
/** The templates people start with `kubectl set env`: the CronJobs whose container has env. */
const templates = (run: ProgramRun) => cronJobs(run).filter((c) => (c.spec.jobTemplate.spec.template.spec.containers[0].env ?? []).length > 0);

/** The README's runbook values for each template's variables. */
const RUNBOOK_ENV: Record<string, Record<string, string>> = {
  "db-restore": {
    BACKUP_ID: "backup_20250607_120000",
    RESTORE_CONFIRM: "backup_20250607_120000",
    RESTORE_APPROVED_BY: "alice",
    RESTORE_REQUEST_ID: "inc-42",
    RESTORE_REASON: "INC-42: bad migration",
    RESTORE_TARGET: "staging",
  },
  "db-backup-pre-migration": { BACKUP_TAG: "before_v2_schema" },
};

/** The restore from the template, as the runbook starts it: the base of the attacks. */
const restoreJob = (run: ProgramRun) => jobFromCronJob(cronJob(run, "db-restore"), "restore-inc-42", RUNBOOK_ENV["db-restore"]);
const imageOf = (run: ProgramRun) => cronJob(run, "db-restore").spec.jobTemplate.spec.template.spec.containers[0].image as string;
const OLDER_DIGEST = `sha256:${"1".repeat(64)}`;

// ---- Genuine Jobs and pods --------------------------------------------------------------------

describe("the stack's own Jobs and their pods are admitted", () => {
  it("renders what the cases below rely on: the two policies, bound, with a Job and a Pod policy; the templates' variables", () => {
    expect(stacks.map((s) => s.label)).toEqual(["dev", "dev+restore+break-glass+ca", "prod", "prod+restore+break-glass+ca"]);
    for (const { run, breakGlass } of stacks) {
      const p = policiesOf(run);
      expect(Object.keys(p.policies).sort()).toEqual([JOB_POLICY, POD_POLICY]);
      expect(p.bindings.map((b) => b.policyName).sort()).toEqual([JOB_POLICY, POD_POLICY]);
      for (const spec of Object.values(p.policies)) expect((spec.matchConditions ?? []).length).toBe(breakGlass ? 1 : 0);
      expect(templates(run).map((c) => c.metadata.name).sort()).toEqual(Object.keys(RUNBOOK_ENV).sort());
      expect(Object.values(RUNBOOK_ENV).flatMap(Object.keys).sort()).toEqual([...TEMPLATE_VARS].sort());
      expect(imageOf(run)).toMatch(new RegExp(`@${MOCK_IMAGE_DIGEST}$`));
      expect(cronJobs(run).length).toBeGreaterThanOrEqual(5);
      expect(objectsOfKind(run, "Job").length).toBe(breakGlass ? 1 : 0);
    }
  });

  it("every CronJob, in every stack: the Job `kubectl create job --from=cronjob/…` makes, and its pod", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      for (const cron of cronJobs(run)) {
        const job = jobFromCronJob(cron, `${cron.metadata.name}-manual`);
        const at = `${label} cronjob/${cron.metadata.name}`;
        expect(review(p, { operation: "CREATE", object: job, user: RESTORER }).results.find((r) => r.policy === JOB_POLICY)!.applied, at).toBe(true);
        expectVerdict(p, { operation: "CREATE", object: job, user: RESTORER }, [], `${at}: Job`);
        const pod = podOf(job);
        expect(review(p, { operation: "CREATE", object: pod, user: JOB_CONTROLLER }).results.find((r) => r.policy === POD_POLICY)!.applied, at).toBe(true);
        expectVerdict(p, { operation: "CREATE", object: pod, user: JOB_CONTROLLER }, [], `${at}: its Pod`);
      }
    }
  });

  it("every CronJob's Job carries its template's backoffLimit (0 or 1, not the API default 6), and is admitted", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      const limits = new Set<number>();
      for (const cron of cronJobs(run)) {
        const limit = cron.spec.jobTemplate.spec.backoffLimit;
        expect(limit, `${label} ${cron.metadata.name}`).toBeTypeOf("number");
        limits.add(limit);
        for (const job of [jobFromCronJob(cron, `${cron.metadata.name}-manual`), scheduledJob(cron)]) {
          expect(job.spec.backoffLimit, `${label} ${cron.metadata.name}`).toBe(limit);
          expectVerdict(p, { operation: "CREATE", object: job, user: RESTORER }, [], `${label} ${cron.metadata.name} backoffLimit ${limit}`);
        }
      }
      // Both kinds are there: the restores' 0 and the scheduled backups' 1.
      expect([...limits].sort(), label).toEqual([0, 1]);
      expect(cronJob(run, "db-restore").spec.jobTemplate.spec.backoffLimit).toBe(0);
    }
  });

  it("every CronJob, in every stack: the Job its controller makes on schedule, and its pod", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      for (const cron of cronJobs(run)) {
        const job = scheduledJob(cron);
        expectVerdict(p, { operation: "CREATE", object: job, user: CRONJOB_CONTROLLER }, [], `${label} scheduled ${cron.metadata.name}`);
        expectVerdict(p, { operation: "CREATE", object: podOf(job), user: JOB_CONTROLLER }, [], `${label} scheduled ${cron.metadata.name}: its Pod`);
      }
    }
  });

  it("the templates with `kubectl set env` values (the runbooks'), and their pods", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      for (const cron of templates(run)) {
        const job = jobFromCronJob(cron, `${cron.metadata.name}-set-env`, RUNBOOK_ENV[cron.metadata.name]);
        const env = job.spec.template.spec.containers[0].env;
        for (const [name, value] of Object.entries(RUNBOOK_ENV[cron.metadata.name]!)) expect(env).toContainEqual({ name, value });
        expectVerdict(p, { operation: "CREATE", object: job, user: RESTORER }, [], `${label} ${cron.metadata.name} with set env: Job`);
        expectVerdict(p, { operation: "CREATE", object: podOf(job), user: JOB_CONTROLLER }, [], `${label} ${cron.metadata.name} with set env: Pod`);
      }
    }
  });

  it("a template variable set on a template that does not use it is admitted (it is one of the templates' variables)", () => {
    for (const { label, run } of stacks) {
      const job = jobFromCronJob(cronJob(run, "db-restore"), "restore-tagged", { BACKUP_ID: "backup_1", BACKUP_TAG: "x" });
      expectVerdict(policiesOf(run), { operation: "CREATE", object: job, user: RESTORER }, [], label);
    }
  });

  it("the one-off restore Job `pulumi up` creates, and its pod", () => {
    for (const { label, run } of stacks.filter((s) => s.breakGlass)) {
      const p = policiesOf(run);
      const rendered = objectsOfKind(run, "Job")[0]!.inputs;
      expect(rendered.spec.template.spec.containers[0].args).toContain(RESTORE_REQUEST.backupId);
      const job = renderedJob(rendered);
      expectVerdict(p, { operation: "CREATE", object: job, user: DEPLOYER }, [], `${label} one-off restore Job`);
      expectVerdict(p, { operation: "CREATE", object: podOf(job), user: JOB_CONTROLLER }, [], `${label} one-off restore Pod`);
    }
  });

  it("the Job controller's updates of a pod (finalizer removed) pass, also for a pod of an older image", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      const old = podOf(restoreJob(run));
      old.spec.containers[0].image = imageOf(run).replace(MOCK_IMAGE_DIGEST, OLDER_DIGEST);
      const updated = clone(old);
      updated.metadata.finalizers = [];
      expectVerdict(p, { operation: "UPDATE", object: updated, oldObject: old, user: JOB_CONTROLLER }, [], `${label} older pod`);
      const current = podOf(restoreJob(run));
      const done = clone(current);
      done.metadata.finalizers = [];
      expectVerdict(p, { operation: "UPDATE", object: done, oldObject: current, user: JOB_CONTROLLER }, [], `${label} current pod`);
    }
  });

  it("a Job UPDATE is not matched (the controllers update Jobs they run, of any image)", () => {
    for (const { label, run } of stacks) {
      const job = alteredJob(restoreJob(run), (s) => (s.containers[0].image = "registry.example.com/old@" + OLDER_DIGEST));
      const suspended = clone(job);
      suspended.spec.suspend = true;
      const verdict = expectVerdict(policiesOf(run), { operation: "UPDATE", object: suspended, oldObject: job, user: CRONJOB_CONTROLLER }, [], label);
      expect(verdict.results.every((r) => !r.applied), label).toBe(true);
    }
  });

  it("the policies apply in the stack's namespace only (the bindings' selector)", () => {
    for (const { label, run } of stacks) {
      const job = alteredJob(restoreJob(run), (s) => (s.containers[0].image = "evil/image:latest"));
      const elsewhere = expectVerdict(policiesOf(run), { operation: "CREATE", object: job, user: RESTORER, namespace: "other" }, [], label);
      expect(elsewhere.results.every((r) => !r.applied), label).toBe(true);
      expectVerdict(policiesOf(run), { operation: "CREATE", object: job, user: RESTORER }, ["image"], label);
    }
  });
});

// ---- Attacks ----------------------------------------------------------------------------------

interface Attack {
  name: string;
  /** Changes the pod spec (of a Job's template, or of the pod the Job controller makes). */
  change: (spec: any, run: ProgramRun) => void;
  /** The checks that refuse it. */
  refusedBy: string[];
  /** Pods only (a pod template cannot have it). */
  podOnly?: boolean;
}

const c0 = (spec: any) => spec.containers[0];
/** Attacks on the pod's shape: what runs, with which Secret, env, volumes, ServiceAccount, containers. */
const SHAPE_ATTACKS: Attack[] = [
  { name: "another image", change: (s) => (c0(s).image = "evil/image:latest"), refusedBy: ["image"] },
  { name: "the stack's image by tag instead of the digest", change: (s, run) => (c0(s).image = imageOf(run).replace(/@sha256:.*$/, ":latest")), refusedBy: ["image"] },
  { name: "the stack's repository with another digest", change: (s, run) => (c0(s).image = imageOf(run).replace(MOCK_IMAGE_DIGEST, OLDER_DIGEST)), refusedBy: ["image"] },
  { name: "another command (a shell)", change: (s) => (c0(s).command = ["sh", "-c", "env"]), refusedBy: ["command"] },
  { name: "node with other arguments as command", change: (s) => (c0(s).command = ["node", "-e", "console.log(process.env)"]), refusedBy: ["command"] },
  { name: "no command (the image's entrypoint)", change: (s) => delete c0(s).command, refusedBy: ["command"] },
  { name: "other args with the restore Secret (another S3 endpoint)", change: (s) => (c0(s).args = ["create", "--type", "daily", "--endpoint", "https://evil"]), refusedBy: ["run"] },
  { name: "a backup's args with the restore Secret", change: (s) => (c0(s).args = ["create", "--type", "daily"]), refusedBy: ["run"] },
  { name: "restore args plus an extra flag", change: (s) => c0(s).args.push("--skip-safety-backup"), refusedBy: ["run"] },
  { name: "no args", change: (s) => delete c0(s).args, refusedBy: ["run"] },
  {
    name: "another of the stack's Secrets in envFrom (the backup Secret for the restore)",
    change: (s) => (c0(s).envFrom.find((e: any) => e.secretRef).secretRef.name = SECRET_NAMES.backup),
    refusedBy: ["run"],
  },
  { name: "a foreign Secret in envFrom", change: (s) => (c0(s).envFrom.find((e: any) => e.secretRef).secretRef.name = "other-app-secret"), refusedBy: ["envFrom", "run"] },
  { name: "a second Secret in envFrom", change: (s) => c0(s).envFrom.push({ secretRef: { name: SECRET_NAMES.backup } }), refusedBy: ["run"] },
  { name: "a foreign ConfigMap in envFrom", change: (s) => c0(s).envFrom.push({ configMapRef: { name: "other-cm" } }), refusedBy: ["envFrom"] },
  { name: "NODE_OPTIONS in env", change: (s) => c0(s).env.push({ name: "NODE_OPTIONS", value: "--import=data:text/javascript,…" }), refusedBy: ["env"] },
  { name: "an S3 endpoint in env", change: (s) => c0(s).env.push({ name: "MINIO_ENDPOINT", value: "https://evil.example.com" }), refusedBy: ["env"] },
  {
    name: "a template variable by valueFrom (secretKeyRef of another Secret)",
    change: (s) => c0(s).env.push({ name: "BACKUP_TAG", valueFrom: { secretKeyRef: { name: "other", key: "k" } } }),
    refusedBy: ["env"],
  },
  {
    name: "a template variable by valueFrom (fieldRef)",
    change: (s) => {
      const reason = c0(s).env.find((e: any) => e.name === "RESTORE_REASON");
      delete reason.value;
      reason.valueFrom = { fieldRef: { fieldPath: "metadata.name" } };
    },
    refusedBy: ["env"],
  },
  { name: "a Secret volume", change: (s) => s.volumes.push({ name: "s", secret: { secretName: SECRET_NAMES.restore } }), refusedBy: ["volumes"] },
  { name: "a projected volume (a token)", change: (s) => s.volumes.push({ name: "p", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }), refusedBy: ["volumes"] },
  { name: "a foreign ConfigMap volume", change: (s) => s.volumes.push({ name: "c", configMap: { name: "other-cm" } }), refusedBy: ["volumes"] },
  { name: "a hostPath volume", change: (s) => s.volumes.push({ name: "h", hostPath: { path: "/" } }), refusedBy: ["volumes"] },
  { name: "another ServiceAccount", change: (s) => (s.serviceAccountName = s.serviceAccount = "default"), refusedBy: ["serviceAccount"] },
  { name: "no ServiceAccount named", change: (s) => (delete s.serviceAccountName, delete s.serviceAccount), refusedBy: ["serviceAccount"] },
  { name: "the ServiceAccount's token mounted (automountServiceAccountToken: true)", change: (s) => (s.automountServiceAccountToken = true), refusedBy: ["serviceAccount"] },
  { name: "automountServiceAccountToken left unset", change: (s) => delete s.automountServiceAccountToken, refusedBy: ["serviceAccount"] },
  { name: "an init container", change: (s) => (s.initContainers = [{ name: "i", image: "busybox", command: ["sh"] }]), refusedBy: ["containers"] },
  { name: "an init container that is a copy of the real one", change: (s) => (s.initContainers = [{ ...clone(c0(s)), name: "copy" }]), refusedBy: ["containers"] },
  { name: "a second container (a copy of the real one)", change: (s) => s.containers.push({ ...clone(c0(s)), name: "two" }), refusedBy: ["containers"] },
  {
    name: "a second container of another image (a sidecar)",
    change: (s) => s.containers.push({ name: "sidecar", image: "busybox", command: ["sh"], envFrom: clone(c0(s).envFrom) }),
    refusedBy: ["command", "containers", "image", "run"],
  },
  { name: "an ephemeral container at creation", change: (s) => (s.ephemeralContainers = [{ name: "debug", image: "busybox" }]), refusedBy: ["containers"], podOnly: true },
];

// The container keeps the stack's image, command, args, Secret and ServiceAccount, and runs other
// code next to the job (a hook, an exec probe), with the restore Secret's URLs in its environment;
// or the same job talks to other hosts under the S3 and database names.
const NODE_E = ["node", "-e", "require('fs').writeFileSync('/proc/1/fd/1', JSON.stringify(process.env))"];
const RUNS_BESIDE: Attack[] = [
  { name: "a postStart exec hook running other code with the Secret (`node -e …`)", change: (s) => (c0(s).lifecycle = { postStart: { exec: { command: NODE_E } } }), refusedBy: ["lifecycle"] },
  { name: "a preStop exec hook running other code with the Secret", change: (s) => (c0(s).lifecycle = { preStop: { exec: { command: NODE_E } } }), refusedBy: ["lifecycle"] },
  { name: "a postStart httpGet hook (any handler)", change: (s) => (c0(s).lifecycle = { postStart: { httpGet: { path: "/", port: 8080 } } }), refusedBy: ["lifecycle"] },
  {
    name: "an exec startupProbe running other code with the Secret (`node -e …`)",
    change: (s) => (c0(s).startupProbe = { exec: { command: NODE_E }, periodSeconds: 10, failureThreshold: 1000 }),
    refusedBy: ["probes"],
  },
  { name: "an exec livenessProbe running other code with the Secret", change: (s) => (c0(s).livenessProbe = { exec: { command: NODE_E }, periodSeconds: 10 }), refusedBy: ["probes"] },
  { name: "an exec readinessProbe running other code with the Secret", change: (s) => (c0(s).readinessProbe = { exec: { command: NODE_E }, periodSeconds: 10 }), refusedBy: ["probes"] },
  {
    name: "a hook and a probe together",
    change: (s) => ((c0(s).lifecycle = { preStop: { exec: { command: NODE_E } } }), (c0(s).livenessProbe = { exec: { command: NODE_E } })),
    refusedBy: ["lifecycle", "probes"],
  },
  { name: "hostAliases (the S3 host name to another address)", change: (s) => (s.hostAliases = [{ ip: "203.0.113.7", hostnames: ["minio.example.com", "db.example.com"] }]), refusedBy: ["dns"] },
  { name: "a dnsConfig (another name server)", change: (s) => (s.dnsConfig = { nameservers: ["203.0.113.53"], searches: ["evil.example.com"] }), refusedBy: ["dns"] },
  { name: "dnsPolicy None with a dnsConfig", change: (s) => ((s.dnsPolicy = "None"), (s.dnsConfig = { nameservers: ["203.0.113.53"] })), refusedBy: ["dns"] },
  { name: "dnsPolicy Default (the node's resolver)", change: (s) => (s.dnsPolicy = "Default"), refusedBy: ["dns"] },
  { name: "the host's network", change: (s) => ((s.hostNetwork = true), (s.dnsPolicy = "ClusterFirstWithHostNet")), refusedBy: ["dns"] },
  { name: "hostNetwork alone", change: (s) => (s.hostNetwork = true), refusedBy: ["dns"] },
];

// The same job with other variables: an envFrom prefix renames a source's keys (the ConfigMap's,
// listed after the Secret, into the Secret's variables; the Secret's out of the way).
const configMapEntry = (s: any) => c0(s).envFrom.find((e: any) => e.configMapRef);
const secretEntry = (s: any) => c0(s).envFrom.find((e: any) => e.secretRef);
const RENAMES: Attack[] = [
  { name: "an envFrom prefix on the ConfigMap", change: (s) => (configMapEntry(s).prefix = "RESTORE_"), refusedBy: ["prefix"] },
  {
    name: "the ConfigMap moved after the Secret, with a prefix (its keys over the Secret's variables)",
    change: (s) => {
      const entry = configMapEntry(s);
      c0(s).envFrom = [...c0(s).envFrom.filter((e: any) => e !== entry), { ...entry, prefix: "PROD_" }];
    },
    refusedBy: ["prefix"],
  },
  { name: "an envFrom prefix on the Secret", change: (s) => (secretEntry(s).prefix = "IGNORED_"), refusedBy: ["prefix"] },
  { name: "a one-character prefix on both entries", change: (s) => c0(s).envFrom.forEach((e: any) => (e.prefix = "_")), refusedBy: ["prefix"] },
];

// A failed container run again in place (the Job's backoffLimit counts it only afterwards).
const RERUNS: Attack[] = [
  { name: "restartPolicy OnFailure", change: (s) => (s.restartPolicy = "OnFailure"), refusedBy: ["restartPolicy"] },
  { name: "restartPolicy Always (a pod's default)", change: (s) => (s.restartPolicy = "Always"), refusedBy: ["restartPolicy"], podOnly: true },
];
const ATTACKS: Attack[] = [...SHAPE_ATTACKS, ...RUNS_BESIDE, ...RENAMES, ...RERUNS];

/** Attacks on the Job itself, around a genuine pod template. */
interface JobAttack {
  name: string;
  change: (jobSpec: any) => void;
  refusedBy: string[];
  /** The Job attacked (the runbook's restore unless given). */
  base?: (run: ProgramRun) => Job;
}
/** A scheduled backup's template (backoffLimit 1), started by hand. */
const dailyBackupJob = (run: ProgramRun) => {
  const cron = cronJob(run, "db-backup-daily");
  expect(cron.spec.jobTemplate.spec.backoffLimit).toBe(1);
  return jobFromCronJob(cron, "backup-by-hand");
};
const IGNORE_FAILURES = {
  rules: [
    { action: "Ignore", onExitCodes: { containerName: "db-backup", operator: "NotIn", values: [0] } },
    { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
  ],
};
const JOB_ATTACKS: JobAttack[] = [
  { name: "parallelism 3 (a restore three times at once)", change: (j) => (j.parallelism = 3), refusedBy: ["job"] },
  { name: "completions 3", change: (j) => (j.completions = 3), refusedBy: ["job"] },
  { name: "parallelism and completions 5", change: (j) => ((j.parallelism = 5), (j.completions = 5)), refusedBy: ["job"] },
  { name: "parallelism 2 with completions unset", change: (j) => ((j.parallelism = 2), delete j.completions), refusedBy: ["job"] },
  { name: "parallelism 2 and an exec startupProbe", change: (j) => ((j.parallelism = 2), (c0(j.template.spec).startupProbe = { exec: { command: NODE_E } })), refusedBy: ["job", "probes"] },
  // Retries: the restore's backoffLimit is 0, a scheduled backup's 1.
  { name: "a restore with backoffLimit 6 (the API default)", change: (j) => (j.backoffLimit = 6), refusedBy: ["backoffLimit"] },
  { name: "a restore with backoffLimit 1 (a backup's)", change: (j) => (j.backoffLimit = 1), refusedBy: ["backoffLimit"] },
  { name: "a restore with backoffLimit 1000", change: (j) => (j.backoffLimit = 1000), refusedBy: ["backoffLimit"] },
  { name: "a backup with backoffLimit 2 (higher than its template's 1)", change: (j) => (j.backoffLimit = 2), refusedBy: ["backoffLimit"], base: dailyBackupJob },
  { name: "a backup with backoffLimit 0 (lower than its template's 1)", change: (j) => (j.backoffLimit = 0), refusedBy: ["backoffLimit"], base: dailyBackupJob },
  { name: "a podFailurePolicy with Ignore rules (failures do not count)", change: (j) => (j.podFailurePolicy = clone(IGNORE_FAILURES)), refusedBy: ["failurePolicy"] },
  {
    name: "a podFailurePolicy on a backup's Job",
    change: (j) => (j.podFailurePolicy = { rules: [{ action: "Ignore", onExitCodes: { operator: "In", values: [1] } }] }),
    refusedBy: ["failurePolicy"],
    base: dailyBackupJob,
  },
  { name: "Indexed with backoffLimitPerIndex 5", change: (j) => ((j.completionMode = "Indexed"), (j.backoffLimitPerIndex = 5)), refusedBy: ["failurePolicy"] },
  { name: "backoffLimit 6 and a podFailurePolicy", change: (j) => ((j.backoffLimit = 6), (j.podFailurePolicy = clone(IGNORE_FAILURES))), refusedBy: ["backoffLimit", "failurePolicy"] },
  {
    name: "backoffLimit 3 and restartPolicy OnFailure",
    change: (j) => ((j.backoffLimit = 3), (j.template.spec.restartPolicy = "OnFailure")),
    refusedBy: ["backoffLimit", "restartPolicy"],
  },
  { name: "other args and backoffLimit 6 (the run check's alone: no run to compare with)", change: (j) => ((j.backoffLimit = 6), c0(j.template.spec).args.push("--skip-safety-backup")), refusedBy: ["run"] },
];
const jobAttackRequest = (run: ProgramRun, attack: JobAttack): Request => {
  const job = (attack.base ?? restoreJob)(run);
  attack.change(job.spec);
  return { operation: "CREATE", object: job, user: RESTORER };
};

function attackRequests(run: ProgramRun, attack: Attack): { label: string; request: Request }[] {
  const base = restoreJob(run);
  const requests: { label: string; request: Request }[] = [];
  if (!attack.podOnly) {
    const job = alteredJob(base, (s) => attack.change(s, run));
    requests.push({ label: "Job", request: { operation: "CREATE", object: job, user: RESTORER } });
  }
  // The same shape as a pod: with a real Job's owner reference (ownership alone is not trusted,
  // it can be written by hand).
  const pod = podOf(base);
  attack.change(pod.spec, run);
  requests.push({ label: "Pod with a Job owner", request: { operation: "CREATE", object: pod, user: RESTORER } });
  return requests;
}

describe("attacks are refused (in every stack; as a Job and as a pod with a Job owner)", () => {
  for (const attack of ATTACKS) {
    it(`refused: ${attack.name} — by ${attack.refusedBy.join(", ")}`, () => {
      for (const { label, run } of stacks) {
        for (const r of attackRequests(run, attack)) expectVerdict(policiesOf(run), r.request, attack.refusedBy, `${label} ${r.label}`);
      }
    });
  }

  it("refused: a Job whose only container has no envFrom at all (the envFrom check errors, and fails closed)", () => {
    for (const { label, run } of stacks) {
      const job = alteredJob(restoreJob(run), (s) => delete c0(s).envFrom);
      expectVerdict(policiesOf(run), { operation: "CREATE", object: job, user: RESTORER }, ["envFrom(error)", "run"], label);
    }
  });

  it("refused: a pod without an owner (by hand, an exact copy of a template's)", () => {
    for (const { label, run } of stacks) {
      for (const cron of cronJobs(run)) {
        const pod = handMadePod(jobFromCronJob(cron, `${cron.metadata.name}-x`));
        expectVerdict(policiesOf(run), { operation: "CREATE", object: pod, user: RESTORER }, ["owner"], `${label} ${cron.metadata.name}`);
      }
    }
  });

  it("refused: pods with a forged owner reference (another kind, another API group, not a controller)", () => {
    const owners = [
      { apiVersion: "batch/v1", kind: "CronJob", name: "db-restore", uid: "u", controller: true },
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u", controller: true },
      { apiVersion: "example.com/v1", kind: "Job", name: "x", uid: "u", controller: true },
      { apiVersion: "batch/v1", kind: "Job", name: "x", uid: "u", controller: false },
      { apiVersion: "batch/v1", kind: "Job", name: "x", uid: "u" },
    ];
    for (const { label, run } of stacks) {
      for (const owner of owners) {
        const pod = podOf(restoreJob(run));
        pod.metadata.ownerReferences = [owner];
        expectVerdict(policiesOf(run), { operation: "CREATE", object: pod, user: RESTORER }, ["owner"], `${label} ${JSON.stringify(owner)}`);
      }
    }
  });

  it("refused: a pod with a forged Job owner and another image", () => {
    for (const { label, run } of stacks) {
      const pod = podOf(restoreJob(run));
      pod.spec.containers[0].image = "evil";
      expectVerdict(policiesOf(run), { operation: "CREATE", object: pod, user: RESTORER }, ["image"], label);
    }
  });

  it("refused: `kubectl debug --copy-to` (a copy without owner, with a debugger container)", () => {
    for (const { label, run } of stacks) {
      const pod = handMadePod(restoreJob(run));
      pod.metadata.name = "restore-debug";
      pod.spec.shareProcessNamespace = true;
      pod.spec.containers.push({ name: "debugger-abcde", image: "busybox", stdin: true, tty: true, terminationMessagePolicy: "File" });
      expectVerdict(
        policiesOf(run),
        { operation: "CREATE", object: pod, user: RESTORER },
        ["command", "containers", "envFrom(error)", "image", "owner", "run"],
        label,
      );
    }
  });

  it("refused: UPDATE of a pod's image (`kubectl set image`)", () => {
    for (const { label, run } of stacks) {
      const old = podOf(restoreJob(run));
      const updated = clone(old);
      updated.spec.containers[0].image = "evil";
      expectVerdict(policiesOf(run), { operation: "UPDATE", object: updated, oldObject: old, user: RESTORER }, ["update"], `${label} to another image`);
      // Even to the stack's image from an older one: an admitted pod keeps what it was admitted with.
      const older = clone(old);
      older.spec.containers[0].image = imageOf(run).replace(MOCK_IMAGE_DIGEST, OLDER_DIGEST);
      expectVerdict(policiesOf(run), { operation: "UPDATE", object: old, oldObject: older, user: RESTORER }, ["update"], `${label} to the current image`);
    }
  });

  it("refused: an ephemeral debug container (`kubectl debug`, UPDATE of pods/ephemeralcontainers)", () => {
    for (const { label, run } of stacks) {
      const old = podOf(restoreJob(run));
      const updated = clone(old);
      updated.spec.ephemeralContainers = [{ name: "debugger-x", image: "busybox", targetContainerName: "db-backup", stdin: true, tty: true }];
      const verdict = expectVerdict(
        policiesOf(run),
        { operation: "UPDATE", object: updated, oldObject: old, user: RESTORER, subResource: "ephemeralcontainers" },
        ["update"],
        label,
      );
      expect(verdict.results.find((r) => r.policy === POD_POLICY)!.applied).toBe(true);
    }
  });

  for (const attack of JOB_ATTACKS) {
    it(`refused: a Job with ${attack.name} — by ${attack.refusedBy.join(", ")}`, () => {
      for (const { label, run } of stacks) expectVerdict(policiesOf(run), jobAttackRequest(run, attack), attack.refusedBy, label);
    });
  }

  it("refused: a Job whose backoffLimit is left out (the API server sets 6) — by backoffLimit; as the template has it — admitted", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      for (const name of ["db-restore", "db-backup-daily"]) {
        const cron = clone(cronJob(run, name));
        const limit = cron.spec.jobTemplate.spec.backoffLimit;
        delete cron.spec.jobTemplate.spec.backoffLimit;
        const job = jobFromCronJob(cron, `${name}-no-limit`, RUNBOOK_ENV[name]);
        expect(job.spec.backoffLimit).toBe(6);
        expectVerdict(p, { operation: "CREATE", object: job, user: RESTORER }, ["backoffLimit"], `${label} ${name} left out`);
        job.spec.backoffLimit = limit;
        expectVerdict(p, { operation: "CREATE", object: job, user: RESTORER }, [], `${label} ${name} ${limit}`);
      }
    }
  });

  it("the one-off restore Job (backoffLimit 0): admitted as rendered, refused with another backoffLimit or a podFailurePolicy", () => {
    for (const { label, run } of stacks.filter((s) => s.breakGlass)) {
      const p = policiesOf(run);
      const job = renderedJob(objectsOfKind(run, "Job")[0]!.inputs);
      expect(job.spec.backoffLimit).toBe(0);
      expectVerdict(p, { operation: "CREATE", object: job, user: DEPLOYER }, [], `${label} as rendered`);
      for (const limit of [1, 6]) {
        const retried = clone(job);
        retried.spec.backoffLimit = limit;
        expectVerdict(p, { operation: "CREATE", object: retried, user: DEPLOYER }, ["backoffLimit"], `${label} backoffLimit ${limit}`);
      }
      const ignoring = clone(job);
      ignoring.spec.podFailurePolicy = clone(IGNORE_FAILURES);
      expectVerdict(p, { operation: "CREATE", object: ignoring, user: DEPLOYER }, ["failurePolicy"], `${label} podFailurePolicy`);
    }
  });

  it("admitted: a Job that states the defaults (parallelism 1, completions 1) or leaves them out", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      for (const spec of [{ parallelism: 1, completions: 1 }, { parallelism: 1 }, { completions: 1 }, {}]) {
        const job = restoreJob(run);
        delete job.spec.parallelism;
        delete job.spec.completions;
        Object.assign(job.spec, spec);
        expectVerdict(p, { operation: "CREATE", object: job, user: RESTORER }, [], `${label} ${JSON.stringify(spec)}`);
      }
    }
  });

  it("refused: an ephemeral container added to a pod that has one already (from a break-glass `kubectl debug`), or one of those changed", () => {
    for (const { label, run } of stacks) {
      const debugged = podOf(restoreJob(run));
      debugged.spec.ephemeralContainers = [{ name: "debugger-x", image: "busybox", targetContainerName: "db-backup" }];
      const second = clone(debugged);
      second.spec.ephemeralContainers.push({ name: "debugger-y", image: "busybox", targetContainerName: "db-backup" });
      const req = (object: any): Request => ({ operation: "UPDATE", object, oldObject: debugged, user: RESTORER, subResource: "ephemeralcontainers" });
      expectVerdict(policiesOf(run), req(second), ["update"], `${label} a second one`);
      const replaced = clone(debugged);
      replaced.spec.ephemeralContainers[0].image = "evil";
      expectVerdict(policiesOf(run), req(replaced), ["update"], `${label} its image changed`);
      const renamed = clone(debugged);
      renamed.spec.ephemeralContainers[0].name = "debugger-z";
      expectVerdict(policiesOf(run), req(renamed), ["update"], `${label} another name`);
      // Nothing added: passes (as for the controllers' updates).
      expectVerdict(policiesOf(run), req(clone(debugged)), [], `${label} unchanged`);
    }
  });
});

// ---- Break-glass ------------------------------------------------------------------------------

describe("break-glass subjects are exempt (the policies' matchConditions), nobody else", () => {
  const withBreakGlass = () => stacks.filter((s) => s.breakGlass);
  /** Something only an exempt subject gets through: a pod by hand that mounts the restore Secret. */
  const breakGlassPod = (run: ProgramRun) => {
    const pod = handMadePod(restoreJob(run));
    pod.spec.volumes.push({ name: "s", secret: { secretName: SECRET_NAMES.restore } });
    pod.spec.containers[0].command = ["sh"];
    return pod;
  };
  const breakGlassJob = (run: ProgramRun) => alteredJob(restoreJob(run), (s) => (c0(s).command = ["sh", "-c", "psql \"$PROD_DB_URL\""]));

  it("a break-glass user, and a member of a break-glass group: their pods and Jobs are not matched", () => {
    for (const { label, run } of withBreakGlass()) {
      const p = policiesOf(run);
      for (const user of [{ username: "bob", groups: AUTHENTICATED }, { username: "bob" }, { username: "dave", groups: ["sre-oncall", ...AUTHENTICATED] }]) {
        for (const object of [breakGlassPod(run), breakGlassJob(run)]) {
          const verdict = expectVerdict(p, { operation: "CREATE", object, user }, [], `${label} ${JSON.stringify(user)} ${object.kind}`);
          expect(verdict.results.every((r) => !r.applied)).toBe(true);
        }
        const old = podOf(restoreJob(run));
        const debugged = clone(old);
        debugged.spec.ephemeralContainers = [{ name: "debugger-x", image: "busybox" }];
        expectVerdict(p, { operation: "UPDATE", object: debugged, oldObject: old, user, subResource: "ephemeralcontainers" }, [], `${label} ${user.username} debug`);
      }
    }
  });

  it("others are not exempt: another user, a look-alike name or group, no groups at all, a restorer", () => {
    for (const { label, run } of withBreakGlass()) {
      const p = policiesOf(run);
      for (const user of [
        RESTORER,
        { username: "bobby", groups: AUTHENTICATED },
        { username: "Bob", groups: AUTHENTICATED },
        { username: "dave", groups: ["sre-oncall-trainees", "sre", ...AUTHENTICATED] },
        { username: "dave" },
        { username: "dave", groups: [] },
        { username: "system:serviceaccount:db-backup:bob", groups: ["system:serviceaccounts"] },
      ]) {
        expectVerdict(p, { operation: "CREATE", object: breakGlassPod(run), user }, ["command", "owner", "volumes"], `${label} ${JSON.stringify(user)} Pod`);
        expectVerdict(p, { operation: "CREATE", object: breakGlassJob(run), user }, ["command"], `${label} ${JSON.stringify(user)} Job`);
      }
    }
  });

  // The update check refuses a pod that ADDS an ephemeral container, not one that HAS one: after an
  // exempt subject ran `kubectl debug` on a Job's pod, the Job controller must still remove its
  // finalizer (batch.kubernetes.io/job-tracking) from that pod, or the pod stays Terminating and the
  // Job is not counted finished.
  it("after a break-glass `kubectl debug`, the Job controller may still remove its finalizer from the pod", () => {
    for (const { label, run } of withBreakGlass()) {
      const debugged = podOf(restoreJob(run));
      debugged.spec.ephemeralContainers = [{ name: "debugger-x", image: "busybox", targetContainerName: "db-backup" }];
      const done = clone(debugged);
      done.metadata.finalizers = [];
      const verdict = review(policiesOf(run), { operation: "UPDATE", object: done, oldObject: debugged, user: JOB_CONTROLLER });
      expect(verdict.admitted, `${label}: ${describeVerdict(verdict)}`).toBe(true);
    }
  });

  it("in a stack that names no break-glass subject (Pulumi.<stack>.yaml as it is), nobody is exempt", () => {
    for (const { label, run } of stacks.filter((s) => !s.breakGlass)) {
      const p = policiesOf(run);
      for (const spec of Object.values(p.policies)) expect(spec.matchConditions).toBeUndefined();
      expectVerdict(p, { operation: "CREATE", object: breakGlassPod(run), user: { username: "bob", groups: ["sre-oncall"] } }, ["command", "owner", "volumes"], label);
    }
  });

  it("break-glass by users only, or by groups only", async () => {
    for (const breakGlass of [{ users: ["bob"] }, { groups: ["sre-oncall"] }]) {
      const run = await stackRun("prod", { set: { "db-backup:access": { breakGlass } } });
      const p = policiesOf(run);
      const exempt = "users" in breakGlass ? { username: "bob" } : { username: "dave", groups: ["sre-oncall"] };
      const other = "users" in breakGlass ? { username: "dave", groups: ["sre-oncall"] } : { username: "bob" };
      expectVerdict(p, { operation: "CREATE", object: breakGlassPod(run), user: exempt }, [], `${JSON.stringify(breakGlass)} exempt`);
      expectVerdict(p, { operation: "CREATE", object: breakGlassPod(run), user: other }, ["command", "owner", "volumes"], `${JSON.stringify(breakGlass)} other`);
    }
  });
});

// ---- The expressions themselves --------------------------------------------------------------

describe("the expressions", () => {
  it("use only what cel-js and the standard library have (no Kubernetes library function is needed here)", () => {
    for (const { label, run } of stacks) {
      for (const [name, spec] of Object.entries(policiesOf(run).policies)) {
        const expressions = [...(spec.matchConditions ?? []), ...(spec.variables ?? []), ...(spec.validations ?? [])].map((e: any) => e.expression as string);
        expect(expressions.length).toBeGreaterThan(0);
        for (const expression of expressions) {
          const checked = celEnv.check(expression);
          expect(checked.valid, `${label} ${name}: ${expression}\n${checked.error?.message}`).toBe(true);
        }
      }
    }
  });

  it("this test notices a loosened expression: the image check replaced with `true` admits another image", () => {
    const { run } = stackNamed("prod");
    const p = policiesOf(run);
    const request: Request = { operation: "CREATE", object: alteredJob(restoreJob(run), (s) => (c0(s).image = "evil/image:latest")), user: RESTORER };
    expectVerdict(p, request, ["image"], "as rendered");
    const loosened = clone(p);
    const check = loosened.policies[JOB_POLICY].validations.find((v: any) => /must run the stack's image/.test(v.message));
    check.expression = "true";
    expect(review(loosened, request).admitted).toBe(true);
  });

  it("every validation of both policies is load-bearing: replaced with `true`, a case above that was refused is admitted", () => {
    for (const { label, run } of stacks) {
      const p = policiesOf(run);
      const refused: Request[] = [];
      for (const attack of ATTACKS) for (const r of attackRequests(run, attack)) refused.push(r.request);
      for (const attack of JOB_ATTACKS) refused.push(jobAttackRequest(run, attack));
      const old = podOf(restoreJob(run));
      const otherImage = clone(old);
      otherImage.spec.containers[0].image = "evil";
      refused.push({ operation: "UPDATE", object: otherImage, oldObject: old, user: RESTORER });
      refused.push({ operation: "CREATE", object: handMadePod(restoreJob(run)), user: RESTORER });
      for (const r of refused) expect(review(p, r).admitted).toBe(false);
      for (const [name, spec] of Object.entries(p.policies)) {
        spec.validations.forEach((validation: any, i: number) => {
          const loosened = clone(p);
          loosened.policies[name].validations[i].expression = "true";
          const nowAdmitted = refused.filter((r) => review(loosened, r).admitted);
          expect(nowAdmitted.length, `${label} ${name} validation ${i} (${validation.message}) loosened: nothing above notices`).toBeGreaterThan(0);
        });
      }
    }
  });

  it("the break-glass matchCondition is load-bearing too: made always false, everyone is exempt; made always true, nobody is", () => {
    for (const { label, run } of stacks.filter((s) => s.breakGlass)) {
      const p = policiesOf(run);
      const attack: Request = { operation: "CREATE", object: alteredJob(restoreJob(run), (s) => (c0(s).command = ["sh"])), user: RESTORER };
      const bob: Request = { ...attack, user: { username: "bob" } };
      expect(review(p, attack).admitted, label).toBe(false);
      expect(review(p, bob).admitted, label).toBe(true);
      const loosen = (expression: string) => {
        const changed = clone(p);
        for (const spec of Object.values(changed.policies)) spec.matchConditions[0].expression = expression;
        return changed;
      };
      expect(review(loosen("false"), attack).admitted, label).toBe(true);
      expect(review(loosen("true"), bob).admitted, label).toBe(false);
    }
  });

  it("the Job policy admits only what the rendered stack runs: the one-off restore's args are not admitted in a stack without it", () => {
    const withRestore = stackNamed("prod+restore+break-glass+ca").run;
    const without = stackNamed("prod").run;
    const oneOff = renderedJob(objectsOfKind(withRestore, "Job")[0]!.inputs);
    // Same image digest and names in both runs: only the runs list differs (and the CA volume).
    const job = alteredJob(oneOff, (s) => (s.volumes = s.volumes.filter((v: any) => !v.configMap), c0(s).volumeMounts = c0(s).volumeMounts.filter((m: any) => m.name !== "ca")));
    expectVerdict(policiesOf(withRestore), { operation: "CREATE", object: job, user: DEPLOYER }, [], "with the one-off restore");
    expectVerdict(policiesOf(without), { operation: "CREATE", object: job, user: DEPLOYER }, ["run"], "without it");
  });

  it("a CA bundle's ConfigMap volume is admitted only in a stack that has one", () => {
    const withCa = stackNamed("prod+restore+break-glass+ca").run;
    const without = stackNamed("prod").run;
    const job = jobFromCronJob(cronJob(withCa, "db-restore"), "restore-ca", RUNBOOK_ENV["db-restore"]);
    expect(job.spec.template.spec.volumes.some((v: any) => v.configMap)).toBe(true);
    expectVerdict(policiesOf(withCa), { operation: "CREATE", object: job, user: RESTORER }, [], "with a CA bundle");
    expectVerdict(policiesOf(without), { operation: "CREATE", object: job, user: RESTORER }, ["volumes"], "without");
    expect(SERVICE_ACCOUNT).toBe(job.spec.template.spec.serviceAccountName);
  });
});

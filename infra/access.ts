// Who may do what in the namespace (pure): three Roles, and the admission policy that lets only the
// stack's own workloads run there.
//
// - viewer: read CronJobs, Jobs, Pods, their logs and events. Nothing secret.
// - restorer: the viewer's rights and `create jobs`: start a restore (or a pre-migration backup,
//   a drill, a status check) from the stack's CronJobs with `kubectl create job --from=cronjob/…`.
//   No pods, no secrets, no exec: what such a Job does is fixed by the admission policy below.
// - break-glass: the viewer's rights, `create pods` and `get` on the stack's Secrets: running
//   anything with the stack's credentials. Its subjects are also exempt from the admission policy.
//   Granting it is a cluster admin's act: the subjects are stack config, and the exemption lives in
//   cluster-scoped objects only a cluster admin may change.
//
// The admission policy (ValidatingAdmissionPolicy, admissionregistration.k8s.io/v1, Kubernetes
// >= 1.30) admits in the namespace only:
// - Jobs whose pod template is one of the stack's: its image by digest, the job's command, one of
//   the stack's args lists with the Secret that goes with it, only the templates' variables (as
//   plain values), only the stack's ConfigMaps and emptyDir volumes, its ServiceAccount without a
//   token. So `create jobs` cannot mount the restore Secret into anything but a db-backup restore.
//   Refused even with all of that right:
//   - lifecycle hooks (postStart/preStop) and probes (startup/liveness/readiness): an exec handler
//     runs any command in the container, with the Secret's URLs in its environment;
//   - an envFrom `prefix`: it renames a source's keys, so the stack's ConfigMap (listed after the
//     Secret) could supply variables the job reads from its Secret;
//   - the host's network, hostAliases, a dnsConfig or a dnsPolicy other than ClusterFirst: they
//     would point the S3 and database host names somewhere else;
//   - a Job of more than one pod at a time (parallelism or completions other than 1): a restore
//     run several times at once;
//   - a Job retried otherwise than its template says: its backoffLimit must be the one of the run
//     its args and Secret match (the API server defaults an unset one to 6, so leaving it out is
//     refused where the template has 0 or 1; a Job from a CronJob copies the template's), no
//     podFailurePolicy (an Ignore rule makes failures not count) or backoffLimitPerIndex, and the
//     pod's restartPolicy Never (OnFailure restarts the container in place before the Job
//     controller counts the failure).
// - Pods of the same shape that a Job controls (a hand-made pod cannot mount a Secret; ownership
//   alone is not trusted, as ownerReferences can be written by hand); an update may not change a
//   pod's image or add an ephemeral (debug) container (one a break-glass subject added before
//   stays: the controllers' later updates of that pod pass).
// It does not stop: a cluster admin; anyone who can read the Secrets (`get secrets`, e.g. the
// namespace's `admin` role) and so take the URLs elsewhere; anyone who can change the stack's
// CronJobs, ConfigMaps or Secrets (they are the templates); `pods/exec` into a running pod;
// scheduling (nodeName, nodeSelector, tolerations, runtimeClassName) and securityContext, left to
// the namespace's Pod Security `restricted` level.

/** A CEL string or list literal (JSON's escapes are CEL's). */
export const cel = (value: string | readonly unknown[]): string =>
  typeof value === "string" ? JSON.stringify(value) : `[${value.map((v) => cel(v as string | unknown[])).join(", ")}]`;

export interface Subjects {
  groups: string[];
  users: string[];
}
export interface AccessSettings {
  viewers: Subjects;
  restorers: Subjects;
  breakGlass: Subjects;
}

export const ROLE_NAMES = { viewer: "db-backup-viewer", restorer: "db-backup-restorer", breakGlass: "db-backup-break-glass" } as const;

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
const READ = ["get", "list", "watch"];
const VIEW_RULES: Rule[] = [
  { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: READ },
  { apiGroups: [""], resources: ["pods", "pods/log", "events"], verbs: READ },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
];

/** The three Roles' rules; `secretNames` are the stack's Secrets (break-glass may read those only). */
export function roleRules(secretNames: string[]): Record<keyof typeof ROLE_NAMES, Rule[]> {
  return {
    viewer: VIEW_RULES,
    restorer: [...VIEW_RULES, { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"] }],
    breakGlass: [
      ...VIEW_RULES,
      { apiGroups: [""], resources: ["pods"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: secretNames },
    ],
  };
}

export function roleBindingSubjects(subjects: Subjects) {
  return [
    ...subjects.groups.map((name) => ({ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name })),
    ...subjects.users.map((name) => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name })),
  ];
}

/** A run the admission policy admits: a container's args, the Secret its envFrom names, and the
 * Job's backoffLimit (its workload's, as the CronJob's jobTemplate or the rendered Job has it). */
export interface AdmittedRun {
  args: string[];
  secret: string;
  backoffLimit: number;
}

/** What the API server sets a Job's unset `spec.backoffLimit` to (without backoffLimitPerIndex). */
export const DEFAULT_BACKOFF_LIMIT = 6;

export interface AdmissionInputs {
  /** `<registry>/<name>@sha256:…`. */
  image: string;
  command: string[];
  serviceAccountName: string;
  /** ConfigMaps a pod may take env from or mount. */
  configMaps: string[];
  /** Every Secret of the stack. */
  secrets: string[];
  /** Variables a pod may set (the templates' `$(VAR)`s), plain values only. */
  envNames: string[];
  runs: AdmittedRun[];
  breakGlass: Subjects;
}

export interface Validation {
  expression: string;
  message: string;
  reason: "Forbidden";
}

const v = (expression: string, message: string): Validation => ({ expression, message: `db-backup admission: ${message}`, reason: "Forbidden" });

/** A container `c` runs run `r` (`[args, [secret]]`): its args, and the Secrets its envFrom names. */
const RUN_MATCHES = "r[0] == c.args && r[1] == c.envFrom.filter(e, has(e.secretRef)).map(e, e.secretRef.name)";

/** Runs as a CEL list of `[args, [secret]]`. */
const runsLiteral = (runs: AdmittedRun[]): string => cel(runs.map((r) => [r.args, [r.secret]]) as unknown as string[][]);

/** The checks on a pod spec (`variables.spec`), shared by the Job and the Pod policy. */
export function podSpecValidations(inputs: AdmissionInputs): Validation[] {
  const runs = runsLiteral(inputs.runs);
  return [
    v(
      "size(variables.spec.containers) == 1 && (!has(variables.spec.initContainers) || size(variables.spec.initContainers) == 0) && " +
        "(!has(variables.spec.ephemeralContainers) || size(variables.spec.ephemeralContainers) == 0)",
      "exactly one container, no init or ephemeral containers",
    ),
    v(`variables.spec.containers.all(c, c.image == ${cel(inputs.image)})`, `the container must run the stack's image ${inputs.image}`),
    v(`variables.spec.containers.all(c, has(c.command) && c.command == ${cel(inputs.command)})`, `the container's command must be ${inputs.command.join(" ")}`),
    v(
      `variables.spec.containers.all(c, has(c.args) && has(c.envFrom) && ${runs}.exists(r, ${RUN_MATCHES}))`,
      "only the stack's workloads run here: a Job from one of its CronJobs (kubectl create job --from=cronjob/…), args and Secret as the CronJob has them",
    ),
    v(
      `variables.spec.containers.all(c, c.envFrom.all(e, (has(e.secretRef) && e.secretRef.name in ${cel(inputs.secrets)}) || (has(e.configMapRef) && e.configMapRef.name in ${cel(inputs.configMaps)})))`,
      "env only from the stack's ConfigMaps and Secrets",
    ),
    // A prefix renames a source's keys: the ConfigMap's (put after the Secret, whose keys it then
    // overrides) could become the variables the job reads from its Secret. Genuine pods have none.
    v(
      "variables.spec.containers.all(c, !has(c.envFrom) || c.envFrom.all(e, !has(e.prefix)))",
      "no envFrom prefix: the stack's ConfigMaps and Secrets keep their variables' names",
    ),
    v(
      `variables.spec.containers.all(c, !has(c.env) || c.env.all(e, e.name in ${cel(inputs.envNames)} && !has(e.valueFrom)))`,
      `only the templates' variables (${inputs.envNames.join(", ")}), as plain values`,
    ),
    v(
      `!has(variables.spec.volumes) || variables.spec.volumes.all(v, has(v.emptyDir) || (has(v.configMap) && v.configMap.name in ${cel(inputs.configMaps)}))`,
      "volumes: emptyDir and the stack's ConfigMaps only (no Secret, projected, host or CSI volume)",
    ),
    v(
      `has(variables.spec.serviceAccountName) && variables.spec.serviceAccountName == ${cel(inputs.serviceAccountName)} && ` +
        "has(variables.spec.automountServiceAccountToken) && variables.spec.automountServiceAccountToken == false",
      `ServiceAccount ${inputs.serviceAccountName}, without its token`,
    ),
    // The checks above fix what the container runs; a hook or an exec probe would run any other
    // command next to it, with the same environment (the Secret's URLs).
    v("variables.spec.containers.all(c, !has(c.lifecycle))", "no lifecycle hooks (postStart, preStop): they run commands with the container's Secret"),
    v(
      "variables.spec.containers.all(c, !has(c.startupProbe) && !has(c.livenessProbe) && !has(c.readinessProbe))",
      "no probes (startup, liveness, readiness): an exec probe runs commands with the container's Secret",
    ),
    // Where the S3 and database host names resolve, and from which network.
    v(
      "(!has(variables.spec.hostNetwork) || variables.spec.hostNetwork == false) && " +
        "(!has(variables.spec.hostAliases) || size(variables.spec.hostAliases) == 0) && !has(variables.spec.dnsConfig) && " +
        '(!has(variables.spec.dnsPolicy) || variables.spec.dnsPolicy == "ClusterFirst")',
      "the cluster's network and DNS: no host network, hostAliases, dnsConfig or other dnsPolicy",
    ),
    // OnFailure restarts a failed container in place, before the Job controller counts the failure
    // against backoffLimit: a restore would run again.
    v(
      'has(variables.spec.restartPolicy) && variables.spec.restartPolicy == "Never"',
      "restartPolicy Never, as the templates have it: a failed container is not run again in place",
    ),
  ];
}

/** The checks on the Job itself (Job policy only): one pod at a time, once; retried only as its
 * template says. */
export function jobValidations(inputs: AdmissionInputs): Validation[] {
  const runs = runsLiteral(inputs.runs);
  // The runs by backoffLimit (a map literal: CEL's list literals hold one type only).
  const byLimit = new Map<number, AdmittedRun[]>();
  for (const r of inputs.runs) byLimit.set(r.backoffLimit, [...(byLimit.get(r.backoffLimit) ?? []), r]);
  const runsByLimit = `{${[...byLimit].map(([limit, list]) => `${limit}: ${runsLiteral(list)}`).join(", ")}}`;
  // Always set at admission (defaulted); the fallback is the API server's default.
  const backoffLimit = `(has(object.spec.backoffLimit) ? object.spec.backoffLimit : ${DEFAULT_BACKOFF_LIMIT})`;
  return [
    v(
      "(!has(object.spec.parallelism) || object.spec.parallelism == 1) && (!has(object.spec.completions) || object.spec.completions == 1)",
      "one pod at a time, once (parallelism and completions 1, as the templates have them)",
    ),
    // A container that is none of the runs is the run check's (podSpecValidations) to refuse.
    v(
      `variables.spec.containers.all(c, !has(c.args) || !has(c.envFrom) || !${runs}.exists(r, ${RUN_MATCHES}) || ` +
        `(${backoffLimit} in ${runsByLimit} && ${runsByLimit}[${backoffLimit}].exists(r, ${RUN_MATCHES})))`,
      "the Job's backoffLimit must be its CronJob's (retries as the template has them; left out, it is 6)",
    ),
    v(
      "!has(object.spec.podFailurePolicy) && !has(object.spec.backoffLimitPerIndex)",
      "no podFailurePolicy or backoffLimitPerIndex: failures count, and are retried only as backoffLimit says",
    ),
  ];
}

/** Break-glass subjects skip the policies (a request from them is not matched at all). */
export function breakGlassMatchConditions(breakGlass: Subjects): { name: string; expression: string }[] {
  if (breakGlass.users.length + breakGlass.groups.length === 0) return [];
  return [
    {
      name: "not-break-glass",
      expression:
        `!(request.userInfo.username in ${cel(breakGlass.users)}) && ` +
        `(!has(request.userInfo.groups) || !request.userInfo.groups.exists(g, g in ${cel(breakGlass.groups)}))`,
    },
  ];
}

export const JOB_POLICY = "db-backup-jobs";
export const POD_POLICY = "db-backup-pods";

/** The two ValidatingAdmissionPolicies' specs (bound to the namespace by their bindings). */
export function admissionPolicies(inputs: AdmissionInputs): { name: string; spec: Record<string, unknown> }[] {
  const matchConditions = breakGlassMatchConditions(inputs.breakGlass);
  const common = { failurePolicy: "Fail", ...(matchConditions.length > 0 ? { matchConditions } : {}) };
  const checks = podSpecValidations(inputs);
  const onCreate = (c: Validation): Validation => ({ ...c, expression: `request.operation != "CREATE" || (${c.expression})` });
  return [
    {
      name: JOB_POLICY,
      spec: {
        ...common,
        // CREATE only: a Job's pod template is immutable, and an update must never be refused for
        // an older image (the controller updates Jobs it runs).
        matchConstraints: { resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }] },
        variables: [{ name: "spec", expression: "object.spec.template.spec" }],
        validations: [...checks, ...jobValidations(inputs)],
      },
    },
    {
      name: POD_POLICY,
      spec: {
        ...common,
        matchConstraints: {
          resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers"] }],
        },
        variables: [{ name: "spec", expression: "object.spec" }],
        validations: [
          ...checks.map(onCreate),
          {
            expression:
              'request.operation != "CREATE" || (has(object.metadata.ownerReferences) && ' +
              'object.metadata.ownerReferences.exists(r, r.apiVersion == "batch/v1" && r.kind == "Job" && has(r.controller) && r.controller == true))',
            message: "db-backup admission: only pods a Job controls (create a Job from one of the stack's CronJobs)",
            reason: "Forbidden",
          },
          // Updates (the controllers remove finalizers, people may try `kubectl set image` or
          // `kubectl debug`): the image stays what was admitted, no ephemeral container is added.
          // "Added", not "present": one a break-glass subject added earlier is in oldObject too, and
          // the Job controller must still be able to remove its finalizer from that pod.
          {
            expression:
              'request.operation != "UPDATE" || (object.spec.containers.all(c, oldObject.spec.containers.exists(o, o.name == c.name && o.image == c.image)) && ' +
              "(!has(object.spec.ephemeralContainers) || object.spec.ephemeralContainers.all(e, has(oldObject.spec.ephemeralContainers) && " +
              "oldObject.spec.ephemeralContainers.exists(o, o.name == e.name && o.image == e.image))))",
            message: "db-backup admission: a pod's image cannot change and no ephemeral (debug) container can be added",
            reason: "Forbidden",
          },
        ],
      },
    },
  ];
}

/** A binding per policy: Deny, in the stack's namespace only. */
export function admissionBindings(namespace: string): { name: string; spec: Record<string, unknown> }[] {
  return [JOB_POLICY, POD_POLICY].map((policyName) => ({
    name: policyName,
    spec: {
      policyName,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
    },
  }));
}

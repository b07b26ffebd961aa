// Who may do what in the namespace, as Kubernetes objects (the rules are in ../access.ts): the
// viewer, restorer and break-glass Roles, a RoleBinding per Role that has subjects in the stack's
// `access` config, and the ValidatingAdmissionPolicies (with their bindings) that admit only the
// stack's own Jobs and their pods. The policies and bindings are cluster-scoped: deploying a stack
// takes a cluster admin, and so does changing who is exempt from them.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ROLE_NAMES,
  admissionBindings,
  admissionPolicies,
  roleBindingSubjects,
  roleRules,
  type AccessSettings,
  type AdmissionInputs,
} from "../access";

export interface NamespaceAccessArgs {
  namespace: pulumi.Input<string>;
  /** The namespace's name, known before it exists (the bindings select it by name). */
  namespaceName: string;
  access: AccessSettings;
  secretNames: string[];
  admission: pulumi.Input<AdmissionInputs>;
  labels: Record<string, string>;
}

export class NamespaceAccess extends pulumi.ComponentResource {
  /** What must exist before a Job is created by Pulumi (the one-off restore). */
  readonly admission: pulumi.Resource[] = [];

  constructor(name: string, args: NamespaceAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:access:NamespaceAccess", name, {}, opts);
    const inside = { parent: this };
    const rules = roleRules(args.secretNames);
    const subjectsOf: Record<keyof typeof ROLE_NAMES, AccessSettings[keyof AccessSettings]> = {
      viewer: args.access.viewers,
      restorer: args.access.restorers,
      breakGlass: args.access.breakGlass,
    };
    for (const [role, roleName] of Object.entries(ROLE_NAMES) as [keyof typeof ROLE_NAMES, string][]) {
      const metadata = { name: roleName, namespace: args.namespace, labels: args.labels };
      new k8s.rbac.v1.Role(`${name}-${roleName}`, { metadata, rules: rules[role] }, inside);
      const subjects = roleBindingSubjects(subjectsOf[role]);
      if (subjects.length === 0) continue;
      new k8s.rbac.v1.RoleBinding(
        `${name}-${roleName}-binding`,
        { metadata, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName }, subjects },
        inside,
      );
    }

    const policies = pulumi.output(args.admission).apply(admissionPolicies);
    const bindings = admissionBindings(args.namespaceName);
    for (const [i, binding] of bindings.entries()) {
      const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-${binding.spec.policyName}`,
        { metadata: { name: binding.spec.policyName as string, labels: args.labels }, spec: policies.apply((p) => p[i]!.spec) as never },
        inside,
      );
      const bound = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-${binding.name}-binding`,
        { metadata: { name: binding.name, labels: args.labels }, spec: binding.spec as never },
        { ...inside, dependsOn: [policy] },
      );
      this.admission.push(policy, bound);
    }
    this.registerOutputs({});
  }
}

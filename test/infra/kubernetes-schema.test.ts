// Every Kubernetes object the program creates, in every stack (and with a config-driven restore),
// validated against the official Kubernetes OpenAPI schema by kubernetes-models.
import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Job, CronJob } from "kubernetes-models/batch/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Namespace, Secret, ServiceAccount } from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../../infra/testing/capture";
import { TEST_CA, kubernetesObjects, stackRun } from "../helpers/infra-stacks";

type Model = { validate(): void };
const MODELS: Record<string, new (data: any) => Model> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "batch/v1/CronJob": CronJob,
  "batch/v1/Job": Job,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": ValidatingAdmissionPolicy,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": ValidatingAdmissionPolicyBinding,
};

function validate(manifest: any): void {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) throw new Error(`no schema model for ${manifest.apiVersion} ${manifest.kind}: add it to MODELS`);
  new Model(manifest).validate();
}

const runs: ProgramRun[] = [];
beforeAll(async () => {
  runs.push(await stackRun("dev"));
  runs.push(await stackRun("prod"));
  runs.push(
    await stackRun("prod", {
      set: {
        "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "schema-check", approvedBy: "alice" },
        // every optional object: the CA ConfigMap, all three RoleBindings, break-glass match conditions
        "db-backup:tls": { caBundle: TEST_CA },
        "db-backup:access": { viewers: { groups: ["a"] }, restorers: { users: ["b"] }, breakGlass: { users: ["c"], groups: ["d"] } },
      },
    }),
  );
});

describe("Kubernetes objects against the official schema", () => {
  it("every object of every stack validates (as the engine would send it and as rendered, secrets masked)", () => {
    let checked = 0;
    for (const run of runs) {
      for (const object of kubernetesObjects(run)) {
        const label = `${run.stack}: ${object.inputs.kind}/${object.inputs.metadata?.name}`;
        expect(() => validate(object.inputs), label).not.toThrow();
        expect(() => validate(object.masked), label).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBe(26 + 27 + 30);
    const kinds = new Set(runs[2]!.resources.map((r) => `${r.inputs.apiVersion}/${r.inputs.kind}`).filter((k) => !k.startsWith("undefined")));
    expect([...kinds].sort(), "every kind the program makes has a schema, and the last run makes them all").toEqual(Object.keys(MODELS).sort());
  });

  it("the validator really rejects broken objects (wrong type, missing required field)", () => {
    const cronJob = structuredClone(kubernetesObjects(runs[1]!).find((o) => o.inputs.kind === "CronJob")!.inputs);
    cronJob.spec.jobTemplate.spec.backoffLimit = "one";
    expect(() => validate(cronJob)).toThrow(/backoffLimit/);
    const noImage = structuredClone(kubernetesObjects(runs[1]!).find((o) => o.inputs.kind === "CronJob")!.inputs);
    delete noImage.spec.jobTemplate.spec.template.spec.containers[0].name;
    expect(() => validate(noImage)).toThrow(/name/);
    const noSchedule = structuredClone(kubernetesObjects(runs[1]!).find((o) => o.inputs.kind === "CronJob")!.inputs);
    delete noSchedule.spec.schedule;
    expect(() => validate(noSchedule)).toThrow(/schedule/);
    const badPolicy = structuredClone(kubernetesObjects(runs[1]!).find((o) => o.inputs.kind === "ValidatingAdmissionPolicy")!.inputs);
    badPolicy.spec.failurePolicy = 7;
    expect(() => validate(badPolicy)).toThrow(/failurePolicy/);
    const badNetwork = structuredClone(kubernetesObjects(runs[1]!).find((o) => o.inputs.kind === "NetworkPolicy")!.inputs);
    delete badNetwork.spec.podSelector;
    expect(() => validate(badNetwork)).toThrow(/podSelector/);
    const badRole = structuredClone(kubernetesObjects(runs[1]!).find((o) => o.inputs.kind === "Role")!.inputs);
    delete badRole.rules[0].verbs;
    expect(() => validate(badRole)).toThrow(/verbs/);
  });
});

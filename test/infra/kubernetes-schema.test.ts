// Every Kubernetes object the program creates, in every stack (and with a config-driven restore),
// validated against the official Kubernetes OpenAPI schema by kubernetes-models.
import { Job, CronJob } from "kubernetes-models/batch/v1";
import { ConfigMap, Namespace, Secret, ServiceAccount } from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import type { ProgramRun } from "../../infra/testing/capture";
import { kubernetesObjects, stackRun } from "../helpers/infra-stacks";

type Model = { validate(): void };
const MODELS: Record<string, new (data: any) => Model> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "batch/v1/CronJob": CronJob,
  "batch/v1/Job": Job,
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
      set: { "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "schema-check", approvedBy: "alice" } },
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
    expect(checked).toBeGreaterThanOrEqual(9 + 10 + 11);
    expect(runs[2]!.resources.some((r) => r.inputs.kind === "Job")).toBe(true);
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
  });
});

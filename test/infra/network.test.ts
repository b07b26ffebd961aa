// NetworkPolicies: every pod in the namespace starts with no ingress and no egress; db-backup pods
// get DNS and S3; each workload gets only its own peers from the stack's `network` settings. The
// selectors are checked against the pod templates the same run renders.
import { beforeAll, describe, expect, it } from "vitest";
import { WORKLOAD_LABEL, cidrContains, cidrProblem, networkPolicies, networkSchema, serviceNamespace } from "../../infra/network";
import type { ProgramRun } from "../../infra/testing/capture";
import { object, objectsOfKind, podTemplates, stackRun } from "../helpers/infra-stacks";

let prod: ProgramRun;
beforeAll(async () => {
  prod = await stackRun("prod");
});

const policy = (run: ProgramRun, name: string) => object(run, "NetworkPolicy", name).inputs.spec;
const matches = (selector: { matchLabels?: Record<string, string> }, labels: Record<string, string>) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

describe("the stack's NetworkPolicies", () => {
  it("deny all ingress and egress to every pod in the namespace first", () => {
    expect(policy(prod, "db-backup-default-deny")).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    for (const p of objectsOfKind(prod, "NetworkPolicy")) {
      expect(p.inputs.metadata.namespace).toBe("db-backup");
      expect(p.inputs.spec.ingress, p.inputs.metadata.name).toBeUndefined();
    }
  });

  it("every db-backup pod gets DNS (UDP and TCP) and the S3 endpoint, nothing else", () => {
    const common = policy(prod, "db-backup-egress");
    expect(common.policyTypes).toEqual(["Egress"]);
    expect(common.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
      },
      { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "minio" } } }], ports: [{ protocol: "TCP", port: 9000 }] },
    ]);
    for (const pod of podTemplates(prod)) expect(matches(common.podSelector, pod.labels), pod.owner).toBe(true);
  });

  it("each workload reaches only its own peers: backups the source, the drill the scratch server, restores the targets", () => {
    const egressOf = (workload: string) => policy(prod, `db-backup-egress-${workload}`);
    const ipBlock = { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 5432 }, { protocol: "TCP", port: 6543 }] };
    const nats = { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "nats" } } }], ports: [{ protocol: "TCP", port: 4222 }] };
    expect(egressOf("backup").egress).toEqual([nats, ipBlock]);
    expect(egressOf("restore").egress).toEqual([nats, ipBlock]);
    expect(egressOf("verify").egress).toEqual([nats, { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "scratch-db" } } }], ports: [{ protocol: "TCP", port: 5432 }] }]);
    // No Supabase API token in Pulumi.prod.yaml: the status check gets nothing beyond DNS and S3.
    expect(objectsOfKind(prod, "NetworkPolicy").map((p) => p.inputs.metadata.name)).not.toContain("db-backup-egress-status");
    // Each pod is selected by exactly its own workload's policy.
    for (const { owner, labels } of podTemplates(prod)) {
      const selecting = objectsOfKind(prod, "NetworkPolicy")
        .filter((p) => p.inputs.metadata.name.startsWith("db-backup-egress-") && matches(p.inputs.spec.podSelector, labels))
        .map((p) => p.inputs.metadata.name);
      expect(selecting, owner).toEqual(labels[WORKLOAD_LABEL] === "status" ? [] : [`db-backup-egress-${labels[WORKLOAD_LABEL]}`]);
    }
  });

  it("the status check reaches the Supabase API when the stack gives it a peer", async () => {
    const network = JSON.parse((await import("../../infra/testing/capture")).readStackConfig("prod")["db-backup:network"]!);
    const run = await stackRun("prod", {
      set: { "db-backup:network": { ...network, supabaseApi: [{ cidr: "0.0.0.0/0", except: ["10.0.0.0/8"], ports: [443] }] } },
    });
    expect(policy(run, "db-backup-egress-status")).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "db-backup", [WORKLOAD_LABEL]: "status" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }], ports: [{ protocol: "TCP", port: 443 }] }],
    });
  });
});

describe("network settings (pure)", () => {
  it("CIDRs: IPv4 and IPv6, with prefix length; containment", () => {
    expect(cidrProblem("10.0.0.0/8")).toBeUndefined();
    expect(cidrProblem("2001:db8::/32")).toBeUndefined();
    expect(cidrProblem("10.0.0.0")).toMatch(/not a CIDR/);
    expect(cidrProblem("db.example.com/32")).toMatch(/not an IP address/);
    expect(cidrProblem("10.0.0.0/33")).toMatch(/at most 32/);
    expect(cidrContains("10.0.0.0/8", "10.1.2.3")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "11.1.2.3")).toBe(false);
    expect(cidrContains("10.0.0.0/8", "10.1.0.0/16")).toBe(true);
    expect(cidrContains("10.0.0.0/8", "2001:db8::1")).toBe(false);
    expect(serviceNamespace("minio.minio-system.svc.cluster.local")).toBe("minio-system");
    expect(serviceNamespace("minio.example.com")).toBeUndefined();
  });

  it("a peer is either an address block or a namespace, with ports", () => {
    const parse = (peer: unknown) => networkSchema.safeParse({ s3: [peer], sourceDb: [{ cidr: "10.0.0.0/8", ports: [5432] }], restoreDb: [{ cidr: "10.0.0.0/8", ports: [5432] }] });
    expect(parse({ namespace: "minio", pods: { "app.kubernetes.io/name": "minio" }, ports: [9000] }).success).toBe(true);
    const issues = (peer: unknown) => (parse(peer).error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues({ cidr: "10.0.0.0/8", namespace: "minio", ports: [9000] })).toEqual(["s3.0: give either cidr (an address block) or namespace (pods in the cluster), not both, not neither"]);
    expect(issues({ ports: [9000] })[0]).toMatch(/either cidr/);
    expect(issues({ cidr: "10.0.0.0/8", ports: [] })[0]).toMatch(/s3.0.ports: needs at least one port/);
    expect(issues({ cidr: "10.0.0.0/8", ports: [70000] })[0]).toMatch(/s3.0.ports.0/);
    expect(issues({ cidr: "10.0.0.0/8", except: ["192.168.0.0/16"], ports: [9000] })).toEqual(['s3.0.except.0: "192.168.0.0/16" is not inside 10.0.0.0/8']);
    expect(issues({ namespace: "minio", pods: { "bad key!": "x" }, ports: [9000] })).toEqual(["s3.0.pods.bad key!: is not a label key"]);
    expect(issues({ cidr: "10.0.0.0/8", pods: { app: "x" }, ports: [9000] })).toEqual(["s3.0.pods: only goes with namespace"]);
    expect(issues({ namespace: "Not_A_Namespace", ports: [9000] })[0]).toMatch(/s3.0.namespace: is not a namespace name/);
  });

  it("without a workload's peers there is no policy for it (it reaches DNS and S3 only)", () => {
    const network = networkSchema.parse({ s3: [{ cidr: "10.0.0.0/8", ports: [9000] }], sourceDb: [{ cidr: "10.0.0.0/8", ports: [5432] }], restoreDb: [{ cidr: "10.0.0.0/8", ports: [5432] }] });
    const names = networkPolicies(network, { app: "x" }).map((p) => p.name);
    expect(names).toEqual(["db-backup-default-deny", "db-backup-egress", "db-backup-egress-backup", "db-backup-egress-restore"]);
  });
});

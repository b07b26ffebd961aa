// Who the pods may talk to (pure): the `network` settings and the NetworkPolicies made from them.
// Every pod in the namespace is denied all ingress and egress; then DNS and the S3 endpoint are
// allowed to every db-backup pod, and each workload gets only its own peers: backups NATS and the
// source database, the drill NATS and the scratch server, restores NATS and the restore targets,
// the status check the Supabase Management API. Peers are explicit stack settings: an address
// block, or pods of a namespace, with their TCP ports (a NetworkPolicy matches addresses, never
// host names).
import net from "node:net";
import { z } from "zod";

export const WORKLOAD_LABEL = "db-backup/workload";
/** The workloads that run as pods (the operators' key never enters the cluster). */
export const POD_WORKLOADS = ["backup", "verify", "status", "restore"] as const;
export type PodWorkload = (typeof POD_WORKLOADS)[number];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isLabelKey = (key: string) => {
  const [prefix, name, extra] = key.includes("/") ? key.split("/") : [undefined, key];
  return extra === undefined && LABEL_NAME.test(name ?? "") && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
};
const isLabelValue = (value: string) => value === "" || LABEL_NAME.test(value);

/** `a.b.c.d/n` or `x::y/n`, with no host bits set (what the API server accepts in an ipBlock). */
export function cidrProblem(cidr: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return `"${cidr}" is not a CIDR (address/prefix length, e.g. 10.20.0.0/16 or 2001:db8::/32)`;
  const [, address, bits] = match;
  const family = net.isIPv4(address!) ? 4 : net.isIPv6(address!) ? 6 : 0;
  if (family === 0) return `"${cidr}" is not a CIDR: "${address}" is not an IP address`;
  const max = family === 4 ? 32 : 128;
  if (Number(bits) > max) return `"${cidr}": an IPv${family} prefix length is at most ${max}`;
  return undefined;
}

export const peerSchema = z
  .object({
    /** An address block the peer is in (outside the cluster: a managed database, the Supabase API). */
    cidr: z.string().optional(),
    /** Addresses inside `cidr` that stay denied. */
    except: z.array(z.string()).optional(),
    /** Or: a namespace of this cluster (matched by its kubernetes.io/metadata.name label)… */
    namespace: z.string().max(63).regex(DNS_LABEL, { error: "is not a namespace name (a DNS label)" }).optional(),
    /** …and, optionally, the labels of the peer's pods there. */
    pods: z.record(z.string(), z.string()).optional(),
    /** TCP ports (DNS peers: UDP and TCP). */
    ports: z.array(z.number().int().min(1).max(65535)).min(1, { error: "needs at least one port" }),
  })
  .strict()
  .superRefine((peer, ctx) => {
    const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if ((peer.cidr === undefined) === (peer.namespace === undefined)) {
      problem([], "give either cidr (an address block) or namespace (pods in the cluster), not both, not neither");
    }
    if (peer.cidr !== undefined) {
      const bad = cidrProblem(peer.cidr);
      if (bad) problem(["cidr"], bad);
    }
    for (const [i, except] of (peer.except ?? []).entries()) {
      if (peer.cidr === undefined) problem(["except"], "only goes with cidr");
      const bad = cidrProblem(except);
      if (bad) problem(["except", i], bad);
      else if (peer.cidr !== undefined && !cidrProblem(peer.cidr) && !cidrContains(peer.cidr, except)) problem(["except", i], `"${except}" is not inside ${peer.cidr}`);
    }
    if (peer.pods !== undefined && peer.namespace === undefined) problem(["pods"], "only goes with namespace");
    for (const [key, value] of Object.entries(peer.pods ?? {})) {
      if (!isLabelKey(key)) problem(["pods", key], "is not a label key");
      if (!isLabelValue(value)) problem(["pods", key], `"${value}" is not a label value`);
    }
  });
export type NetworkPeer = z.infer<typeof peerSchema>;

const peers = z.array(peerSchema);
export const networkSchema = z
  .object({
    /** The cluster's DNS; default: kube-dns / CoreDNS pods in kube-system, port 53. */
    dns: peers.min(1).default([{ namespace: "kube-system", pods: { "k8s-app": "kube-dns" }, ports: [53] }]),
    /** MINIO_ENDPOINT: every workload. */
    s3: peers.min(1, { error: "needs at least one peer: every workload reads the bucket" }),
    /** NATS_URL: backups, the drill and restores publish events. */
    nats: peers.default([]),
    /** sourceDbUrl's server: backups. */
    sourceDb: peers.min(1, { error: "needs at least one peer: backups read the source database" }),
    /** verifyDbUrl's server: the drill. */
    verifyDb: peers.default([]),
    /** restoreDbUrl's and every targetDbUrls server (and productionDbUrl's when set): restores. */
    restoreDb: peers.min(1, { error: "needs at least one peer: restores write into restoreDbUrl's server" }),
    /** The Supabase Management API (api.supabase.com): the status check, with supabaseAccessToken. */
    supabaseApi: peers.default([]),
  })
  .strict();
export type NetworkSettings = z.infer<typeof networkSchema>;

/** Whether `cidr` contains the address or block `inner`. */
export function cidrContains(cidr: string, inner: string): boolean {
  const [address, bits] = cidr.split("/");
  const type = net.isIPv4(address!) ? "ipv4" : "ipv6";
  const list = new net.BlockList();
  list.addSubnet(address!, Number(bits), type);
  const [innerAddress, innerBits] = inner.split("/");
  if ((net.isIPv4(innerAddress!) ? "ipv4" : "ipv6") !== type) return false;
  if (!list.check(innerAddress!, type)) return false;
  return innerBits === undefined || Number(innerBits) >= Number(bits);
}

/** Whether an IP address is inside one of the peers' blocks (and not excepted). */
export function peersCover(peerList: NetworkPeer[], address: string): boolean {
  return peerList.some((p) => p.cidr !== undefined && cidrContains(p.cidr, address) && !(p.except ?? []).some((e) => cidrContains(e, address)));
}

/** `<service>.<namespace>.svc[.cluster.local]`: the namespace of an in-cluster service host. */
export function serviceNamespace(host: string): string | undefined {
  return /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?$/.exec(host)?.[1];
}

// ---- The NetworkPolicies -----------------------------------------------------------------------

export interface NetworkPolicySpec {
  name: string;
  spec: Record<string, unknown>;
}

function peerObject(peer: NetworkPeer): Record<string, unknown> {
  if (peer.cidr !== undefined) return { ipBlock: { cidr: peer.cidr, ...(peer.except?.length ? { except: peer.except } : {}) } };
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    ...(peer.pods && Object.keys(peer.pods).length > 0 ? { podSelector: { matchLabels: peer.pods } } : {}),
  };
}

const egress = (list: NetworkPeer[], protocols: ("TCP" | "UDP")[] = ["TCP"]) =>
  list.map((peer) => ({ to: [peerObject(peer)], ports: peer.ports.flatMap((port) => protocols.map((protocol) => ({ protocol, port }))) }));

/** Peers per workload, besides DNS and S3 (which every db-backup pod gets). */
export function workloadPeers(network: NetworkSettings): Record<PodWorkload, NetworkPeer[]> {
  return {
    backup: [...network.nats, ...network.sourceDb],
    verify: [...network.nats, ...network.verifyDb],
    restore: [...network.nats, ...network.restoreDb],
    status: [...network.supabaseApi],
  };
}

/**
 * - `db-backup-default-deny`: every pod in the namespace, no ingress, no egress (the pods serve
 *   nothing; anything later added to the namespace starts from nothing too).
 * - `db-backup-egress`: db-backup pods → DNS (UDP and TCP) and the S3 endpoint.
 * - `db-backup-egress-<workload>`: that workload's pods → its own peers only.
 * NetworkPolicies add up: a pod may reach what any policy selecting it allows.
 */
export function networkPolicies(network: NetworkSettings, appLabels: Record<string, string>): NetworkPolicySpec[] {
  const policies: NetworkPolicySpec[] = [
    { name: "db-backup-default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    {
      name: "db-backup-egress",
      spec: { podSelector: { matchLabels: appLabels }, policyTypes: ["Egress"], egress: [...egress(network.dns, ["UDP", "TCP"]), ...egress(network.s3)] },
    },
  ];
  for (const [workload, list] of Object.entries(workloadPeers(network)) as [PodWorkload, NetworkPeer[]][]) {
    if (list.length === 0) continue;
    policies.push({
      name: `db-backup-egress-${workload}`,
      spec: { podSelector: { matchLabels: { ...appLabels, [WORKLOAD_LABEL]: workload } }, policyTypes: ["Egress"], egress: egress(list) },
    });
  }
  return policies;
}

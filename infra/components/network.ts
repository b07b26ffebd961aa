// The namespace's NetworkPolicies (the rules are in ../network.ts): default deny, then DNS and S3
// for every db-backup pod, and each workload's own peers.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { networkPolicies, type NetworkSettings } from "../network";

export interface NetworkIsolationArgs {
  namespace: pulumi.Input<string>;
  network: NetworkSettings;
  /** Labels every db-backup pod has (the common egress selects them). */
  podLabels: Record<string, string>;
  labels: Record<string, string>;
}

export class NetworkIsolation extends pulumi.ComponentResource {
  constructor(name: string, args: NetworkIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:network:NetworkIsolation", name, {}, opts);
    for (const policy of networkPolicies(args.network, args.podLabels)) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${policy.name}`,
        { metadata: { name: policy.name, namespace: args.namespace, labels: args.labels }, spec: policy.spec as never },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}

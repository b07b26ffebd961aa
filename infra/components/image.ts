// The job image: job/Dockerfile around the esbuild bundle (`npm run build` → dist/db-backup.cjs),
// built and pushed by `pulumi up`; pods use it by digest, so a re-pushed tag never changes them.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import path from "node:path";
import type { StackConfig } from "../config";
import { APP_UID } from "../workload";

const REPO_ROOT = path.resolve(__dirname, "../..");
/** The build context is the bundle's folder only: a few MB, no node_modules, no sources. */
export const BUILD_CONTEXT = path.join(REPO_ROOT, "dist");
export const DOCKERFILE = path.join(REPO_ROOT, "job/Dockerfile");

export interface JobImageArgs {
  image: StackConfig["image"];
  registryPassword?: pulumi.Input<string>;
}

export class JobImage extends pulumi.ComponentResource {
  /** `<registry>/<name>@sha256:…`: what pods run. */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: JobImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:image:JobImage", name, {}, opts);
    const { image } = args;
    const repository = `${image.registry}/${image.name}`;
    const built = new docker.Image(
      name,
      {
        imageName: `${repository}:${image.tag}`,
        build: {
          // Relative to where `pulumi` runs the program, so the inputs do not depend on a checkout path.
          context: path.relative(process.cwd(), BUILD_CONTEXT) || ".",
          dockerfile: path.relative(process.cwd(), DOCKERFILE),
          platform: image.platform,
          args: { PG_MAJOR: String(image.pgMajor), APP_UID: String(APP_UID) },
        },
        skipPush: !image.push,
        registry: image.registryUsername
          ? { server: image.registry.split("/")[0], username: image.registryUsername, password: args.registryPassword }
          : undefined,
      },
      { parent: this },
    );
    this.ref = built.repoDigest;
    this.registerOutputs({ ref: this.ref });
  }
}

// `npm run render -- <stack>`: what `pulumi up` would create for a stack, written to
// rendered/<stack>/ without an engine, a cluster or credentials — the real program runs under
// mocks (infra/testing/capture.ts). Kubernetes objects become standard manifests, one file each;
// MinIO and Docker resources become YAML of their inputs and options. Secrets are masked.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { MASK, REPO_ROOT, placeholderSecrets, readStackFile, runProgram, type CapturedResource } from "./testing/capture";

export interface RenderedFile {
  path: string;
  resource: CapturedResource;
}

export async function renderStack(stack: string, outDir = path.join(REPO_ROOT, "rendered", stack)): Promise<RenderedFile[]> {
  if (!fs.existsSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`))) {
    throw new Error(`no stack "${stack}": Pulumi.${stack}.yaml does not exist`);
  }
  // Secret values are never needed to render: stand-ins for the secrets the stack has go in, and
  // come out masked.
  const { config, secure } = readStackFile(stack);
  const run = await runProgram({ stack, config, secrets: placeholderSecrets(secure) });
  fs.rmSync(outDir, { recursive: true, force: true });
  const header = (what: string) =>
    ` ${what} — rendered by \`npm run render -- ${stack}\` from the Pulumi program (infra/).\n` +
    ` Secrets show as ${MASK}; the image digest is a placeholder until \`pulumi up\` pushes the image.`;

  const files: RenderedFile[] = [];
  const write = (relative: string, body: unknown, resource: CapturedResource, what: string) => {
    const file = path.join(outDir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const document = new YAML.Document(body);
    document.commentBefore = header(what);
    fs.writeFileSync(file, document.toString({ lineWidth: 0 }));
    files.push({ path: file, resource });
  };

  const ordered = [...run.resources].sort((a, b) => `${a.type}/${a.name}`.localeCompare(`${b.type}/${b.name}`));
  for (const resource of ordered) {
    const [pkg] = resource.type.split(":");
    if (pkg === "kubernetes") {
      const { kind, metadata } = resource.masked as { kind: string; metadata: { name: string } };
      write(`kubernetes/${kind.toLowerCase()}-${metadata.name}.yaml`, resource.masked, resource, `${kind} ${metadata.name}`);
    } else if (pkg === "minio" || pkg === "docker" || resource.type.startsWith("pulumi:providers:")) {
      // minio/iampolicy-backups-job.yaml, minio/provider-backups-minio.yaml, docker/image-job-image.yaml
      const provider = pkg === "pulumi";
      const folder = provider ? resource.type.split(":")[2]! : pkg;
      const kind = provider ? "provider" : resource.type.split(":").at(-1)!.toLowerCase();
      const body = { type: resource.type, name: resource.name, options: relevantOptions(resource), inputs: resource.masked };
      write(`${folder}/${kind}-${resource.name}.yaml`, body, resource, `${resource.type} ${resource.name}`);
    }
  }
  const outputs = Object.fromEntries(
    Object.entries(run.outputs).map(([k, v]) => [k, run.secretOutputs.includes(k) ? MASK : v]),
  );
  fs.mkdirSync(outDir, { recursive: true });
  const document = new YAML.Document(outputs);
  document.commentBefore = header("Stack outputs");
  fs.writeFileSync(path.join(outDir, "outputs.yaml"), document.toString({ lineWidth: 0 }));
  return files;
}

/** The options a reviewer should see: only those that are set. */
function relevantOptions(resource: CapturedResource): Record<string, unknown> {
  const { protect, retainOnDelete, importId, deleteBeforeReplace } = resource.options;
  return Object.fromEntries(
    Object.entries({ protect, retainOnDelete, import: importId, deleteBeforeReplace }).filter(([, v]) => v),
  );
}

if (require.main === module) {
  const stack = process.argv[2];
  if (!stack || stack.startsWith("-")) {
    console.error("usage: npm run render -- <stack>   (e.g. dev, prod)");
    process.exit(2);
  }
  renderStack(stack).then(
    (files) => {
      console.log(`rendered ${files.length} resources of stack ${stack} into ${path.relative(process.cwd(), path.join(REPO_ROOT, "rendered", stack))}/`);
      process.exit(0);
    },
    (error: Error) => {
      console.error(`render failed: ${error.message}`);
      process.exit(1);
    },
  );
}

// Runs the real program without an engine: `pulumi.runtime.setMocks` answers every resource
// registration, and this module records what the engine would have been asked to create — inputs
// (with secrets both unwrapped and masked) and resource options (protect, retainOnDelete, import).
// Shared by `npm run render` and the tests in test/infra.
import * as pulumi from "@pulumi/pulumi";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { SECRET_KEYS, loadConfig, type SecretKey } from "../config";
import { backupSystem } from "../program";

export const PROJECT = "db-backup";
export const REPO_ROOT = path.resolve(__dirname, "../..");
/** What a secret becomes in rendered output. */
export const MASK = "[secret]";
/** The digest the mocked registry "returns"; pods referencing it prove the mock answered. */
export const MOCK_IMAGE_DIGEST = `sha256:${"0".repeat(64)}`;

// How the runtime marks special values in serialized properties (sdk/nodejs/runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

export interface CapturedResource {
  type: string;
  name: string;
  /** Inputs as the provider would receive them, secrets unwrapped to their values. */
  inputs: Record<string, any>;
  /** The same with every secret leaf replaced by MASK: safe to print or write. */
  masked: Record<string, any>;
  /** Dotted paths of the inputs that arrived as secrets. */
  secretPaths: string[];
  options: {
    protect: boolean;
    retainOnDelete: boolean;
    importId: string;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    /** URNs this resource was told to wait for (`dependsOn`). */
    dependsOn: string[];
    parent: string;
    provider: string;
  };
}

export interface ProgramRun {
  stack: string;
  resources: CapturedResource[];
  /** The program's outputs, resolved; `secretOutputs` names those that stay secret. */
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  /** How many times the mocks answered: proof that the engine was really mocked. */
  mockCalls: number;
}

export interface RunOptions {
  stack: string;
  /** Plain config (`db-backup:key` → Pulumi's string form); default: Pulumi.<stack>.yaml's. */
  config?: Record<string, string>;
  /** Secret config by key; objects become JSON like `pulumi config set --secret --path` makes. */
  secrets?: Partial<Record<SecretKey, string | Record<string, string>>>;
  preview?: boolean;
}

export interface StackFile {
  /** `config:` in the form the engine hands to a program (structured values as JSON text). */
  config: Record<string, string>;
  /** Keys (without `db-backup:`) holding encrypted values, with their shape: `true` for a value,
   * an object for a map set with `--path`. Only the engine can decrypt them. */
  secure: Record<string, unknown>;
}

const isSecure = (value: unknown): boolean => value !== null && typeof value === "object" && "secure" in value;
const hasSecure = (value: unknown): boolean =>
  isSecure(value) || (value !== null && typeof value === "object" && Object.values(value).some(hasSecure));
const shapeOf = (value: unknown): unknown =>
  isSecure(value) ? true : Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]));

export function readStackFile(stack: string): StackFile {
  const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  const document = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const result: StackFile = { config: {}, secure: {} };
  for (const [key, value] of Object.entries(document?.config ?? {})) {
    if (hasSecure(value)) {
      result.secure[key.replace(`${PROJECT}:`, "")] = shapeOf(value);
      continue;
    }
    result.config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return result;
}

export const readStackConfig = (stack: string) => readStackFile(stack).config;

/** The stand-in for a secret value; database URLs get one of a URL's shape (with the sslmode a
 * production stack requires), so the program's checks pass without the real value. */
export const PLACEHOLDER = "render-placeholder";
const PLACEHOLDER_DB_URL = `postgres://${PLACEHOLDER}@${PLACEHOLDER}.invalid:5432/${PLACEHOLDER}?sslmode=verify-full`;

/** Stand-ins for the secrets a stack has: the required ones, and the optional ones its
 * Pulumi.<stack>.yaml holds encrypted. They only ever show up masked. */
export function placeholderSecrets(secure: Record<string, unknown> = {}): Partial<Record<SecretKey, string | Record<string, string>>> {
  const secrets: Partial<Record<SecretKey, string | Record<string, string>>> = {};
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [SecretKey, { required: boolean; dbUrl: boolean }][]) {
    const shape = secure[key];
    if (!spec.required && shape === undefined) continue;
    const value = spec.dbUrl ? PLACEHOLDER_DB_URL : PLACEHOLDER;
    secrets[key] = shape !== null && typeof shape === "object" ? Object.fromEntries(Object.keys(shape).map((k) => [k, value])) : value;
  }
  return secrets;
}

export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  const { stack } = options;
  const resources: CapturedResource[] = [];
  const registrations = new Map<string, CapturedResource["options"]>();
  let mockCalls = 0;

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        mockCalls++;
        return { id: `${args.name}-id`, state: mockState(args.type, args.inputs) };
      },
      call: (args) => {
        mockCalls++;
        return args.inputs;
      },
    },
    PROJECT,
    stack,
    options.preview ?? false,
  );

  // The mocks see inputs only; resource options travel in the registration request itself.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: RegisterRequest, callback: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const key = `${req.getType()}::${req.getName()}`;
    registrations.set(key, {
      protect: req.getProtect() ?? false,
      retainOnDelete: req.getRetainondelete() ?? false,
      importId: req.getImportid(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      ignoreChanges: req.getIgnorechangesList(),
      dependsOn: req.getDependenciesList(),
      parent: req.getParent(),
      provider: req.getProvider(),
    });
    const inputs = pulumi.runtime.deserializeProperties(req.getObject());
    const secretPaths: string[] = [];
    resources.push({
      type: req.getType(),
      name: req.getName(),
      inputs: unwrap(inputs, ""),
      masked: mask(inputs, "", secretPaths),
      secretPaths,
      options: registrations.get(key)!,
    });
    return register(req, callback);
  };

  const config: Record<string, string> = { ...(options.config ?? readStackConfig(stack)) };
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(options.secrets ?? {})) {
    config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    secretKeys.push(`${PROJECT}:${key}`);
  }
  pulumi.runtime.setAllConfig(config, secretKeys);

  let system: ReturnType<typeof backupSystem>;
  let outputs: Record<string, unknown>;
  const secretOutputs: string[] = [];
  try {
    system = backupSystem(loadConfig());
    outputs = await new Promise((resolve) => pulumi.output(system).apply((v) => resolve(v as Record<string, unknown>)));
    for (const [name, value] of Object.entries(system)) {
      if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value))) secretOutputs.push(name);
    }
  } finally {
    await pulumi.runtime.disconnect(); // drains registrations still in flight
  }
  return { stack, resources, outputs, secretOutputs, mockCalls };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getObject(): any;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getImportid(): string;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getParent(): string;
  getProvider(): string;
}

/** What the mocked providers "return": the inputs, plus what the real provider would compute. */
function mockState(type: string, inputs: Record<string, any>): Record<string, any> {
  switch (type) {
    case "docker:index/image:Image": {
      const repository = String(inputs.imageName).replace(/:[^:/]+$/, "");
      return { ...inputs, repoDigest: `${repository}@${MOCK_IMAGE_DIGEST}` };
    }
    case "minio:index/iamUser:IamUser":
      return { ...inputs, secret: `mock-generated-secret-for-${inputs.name}` };
    default:
      return inputs;
  }
}

const isSpecial = (value: unknown, sig: string): value is Record<string, any> =>
  value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === sig;

function unwrap(value: any, at: string): any {
  if (isSpecial(value, SECRET_SIG)) return unwrap(value.value, at);
  if (isSpecial(value, RESOURCE_SIG)) return value.urn;
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${at}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, at ? `${at}.${k}` : k)]));
  }
  return value;
}

/** Secrets become MASK; a secret map or list keeps its keys (a reviewer sees which variables a
 * Kubernetes Secret holds) with every value masked. */
function mask(value: any, at: string, secretPaths: string[], inSecret = false): any {
  if (isSpecial(value, SECRET_SIG)) {
    secretPaths.push(at);
    return mask(value.value, at, [], true);
  }
  if (isSpecial(value, RESOURCE_SIG)) return value.urn;
  if (Array.isArray(value)) return value.map((v, i) => mask(v, `${at}[${i}]`, secretPaths, inSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, at ? `${at}.${k}` : k, secretPaths, inSecret)]));
  }
  return inSecret ? MASK : value;
}

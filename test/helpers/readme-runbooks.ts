// Reads the README's "Runbooks" section into steps a test can run: its fenced code blocks, their
// `db-backup` commands, `export …_DB_URL=` lines, and `kubectl` pipelines, with the exit code a
// trailing `# exit N` comment promises. Pure text handling; no process is started here.
import YAML from "yaml";

export interface Block {
  /** The nearest heading (### or a **bold** lead) above the block. */
  heading: string;
  /** The stack a `# on the <stack> stack's cluster` comment names, if any. */
  stack?: string;
  steps: Step[];
}

export type Step =
  | { kind: "db-backup"; text: string; args: string[]; expectedExit: number; mentions: string[] }
  | { kind: "export"; text: string; name: string; value: string }
  | { kind: "kubectl-job"; text: string; segments: string[]; expectedExit: number }
  | { kind: "kubectl-read"; text: string; args: string[] };

/** The text between `## <title>` and the next `## ` heading. */
export function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf("\n## ", 4);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Shell words: '…' and "…" quoting and backslash escapes; no expansion (none is used). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in: ${text}`);
  if (inWord) words.push(current);
  return words;
}

/** Splits off a trailing `# comment` (outside quotes). */
export function splitComment(line: string): { code: string; comment: string } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
  }
  return { code: line.trimEnd(), comment: "" };
}

/** Splits a pipeline at `|` outside quotes and `$(…)`. */
export function pipelineSegments(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | null = null;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "$" && text[i + 1] === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (c === "|" && depth === 0) {
      out.push(current.trim());
      current = "";
      continue;
    }
    current += c;
  }
  out.push(current.trim());
  return out;
}

export function runbookBlocks(markdown: string): Block[] {
  const text = section(markdown, "Runbooks");
  const blocks: Block[] = [];
  let heading = "Runbooks";
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^###\s+(.*)$/.exec(line) ?? /^\*\*([^*]+)\*\*/.exec(line);
    if (h) heading = h[1]!.replace(/[:.]$/, "").trim();
    if (!line.startsWith("```")) continue;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
    if (line.trim() !== "```bash") throw new Error(`a code block in Runbooks is not \`\`\`bash (under "${heading}")`);
    blocks.push(parseBlock(heading, body));
  }
  return blocks;
}

function parseBlock(heading: string, body: string[]): Block {
  const block: Block = { heading, steps: [] };
  // Join continuation lines (trailing backslash, or a next line starting with `|`).
  const logical: string[] = [];
  for (const raw of body) {
    const line = raw.trim();
    const previous = logical[logical.length - 1];
    if (previous !== undefined && (previous.endsWith("\\") || line.startsWith("|"))) {
      logical[logical.length - 1] = previous.replace(/\\$/, "").trimEnd() + " " + line;
    } else logical.push(line);
  }
  for (const line of logical) {
    if (line === "") continue;
    const { code, comment } = splitComment(line);
    if (code === "") {
      const stack = /\bon the (\w+) stack's cluster\b/.exec(comment);
      if (stack) block.stack = stack[1];
      continue;
    }
    const exit = /^exit (\d+)\b/.exec(comment);
    const expectedExit = exit ? Number(exit[1]) : 0;
    const exported = /^export ([A-Z][A-Z0-9_]*)=(.*)$/.exec(code);
    if (exported) {
      block.steps.push({ kind: "export", text: code, name: exported[1]!, value: shellWords(exported[2]!)[0] ?? "" });
    } else if (code.startsWith("db-backup ")) {
      // A refusal's comment names the flags that would allow it; the tool's message must name them too.
      const mentions = exit ? (comment.match(/--[a-z][a-z-]*/g) ?? []) : [];
      block.steps.push({ kind: "db-backup", text: code, args: shellWords(code).slice(1), expectedExit, mentions });
    } else if (code.startsWith("kubectl ") && / create job /.test(code)) {
      block.steps.push({ kind: "kubectl-job", text: code, segments: pipelineSegments(code), expectedExit });
    } else if (code.startsWith("kubectl ")) {
      block.steps.push({ kind: "kubectl-read", text: code, args: shellWords(code).slice(1) });
    } else {
      throw new Error(`a Runbooks line is neither db-backup, kubectl nor export: ${code}`);
    }
  }
  return block;
}

// ---- What `kubectl create job --from=cronjob/…` and the kubelet would do ---------------------------

export interface JobFromCronJob {
  namespace: string;
  jobName: string;
  cronJob: string;
  /** The pipeline's `kubectl set env` segments, in order. */
  setEnv: string[];
  /** The final `kubectl create -f -` (absent for a plain `create job`). */
  create?: string;
}

/** Checks the pipeline's shape and returns its parts (throws, naming the segment, otherwise). */
export function parseJobPipeline(segments: string[]): JobFromCronJob {
  const first = /^kubectl -n (\S+) create job ((?:[^\s$]|\$\([^)]*\))+) --from=cronjob\/(\S+?)( --dry-run=client -o yaml)?$/.exec(segments[0]!);
  if (!first) throw new Error(`not "kubectl -n <ns> create job <name> --from=cronjob/<name> [--dry-run=client -o yaml]": ${segments[0]}`);
  const [, namespace, jobName, cronJob, dryRun] = first;
  if (segments.length === 1) {
    if (dryRun) throw new Error(`a dry run that goes nowhere: ${segments[0]}`);
    return { namespace: namespace!, jobName: jobName!, cronJob: cronJob!, setEnv: [] };
  }
  if (!dryRun) throw new Error(`piping a Job needs --dry-run=client -o yaml: ${segments[0]}`);
  const middle = segments.slice(1, -1);
  for (const s of middle) {
    if (!/^kubectl set env --local -f - .+ -o yaml$/.test(s)) throw new Error(`not "kubectl set env --local -f - NAME=value… -o yaml": ${s}`);
  }
  const last = segments[segments.length - 1]!;
  if (last !== `kubectl -n ${namespace} create -f -`) throw new Error(`the pipeline should end with "kubectl -n ${namespace} create -f -": ${last}`);
  return { namespace: namespace!, jobName: jobName!, cronJob: cronJob!, setEnv: middle, create: last };
}

/** The Job `kubectl create job <name> --from=cronjob/<cj>` sends: the CronJob's jobTemplate. */
export function jobFromCronJob(cronJob: { metadata: { name: string; namespace: string }; spec: { jobTemplate: { metadata?: unknown; spec: unknown } } }, jobName: string): string {
  const template = cronJob.spec.jobTemplate as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: unknown };
  return YAML.stringify({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName,
      namespace: cronJob.metadata.namespace,
      annotations: { ...(template.metadata?.annotations ?? {}), "cronjob.kubernetes.io/instantiate": "manual" },
      ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
    },
    spec: template.spec,
  });
}

/** Kubernetes' `$(VAR)` expansion of a container's args from its env: an entry without a value
 * is defined and empty (kubectl prints `value: ""` as no value at all), `$$` is a literal `$`, a
 * reference to an undefined variable stays as written. */
export function expandArgs(args: string[], env: { name: string; value?: string; valueFrom?: unknown }[]): string[] {
  const values = new Map(env.filter((e) => e.valueFrom === undefined).map((e) => [e.name, e.value ?? ""]));
  return args.map((arg) => arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (name === undefined ? "$" : values.get(name) ?? match)));
}

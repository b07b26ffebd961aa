// Transport rules a stack's values are checked against (pure; config.ts reports the problems under
// the key they belong to). Database URLs are secrets: a problem names the key and what is wrong,
// never the value.
import { X509Certificate } from "node:crypto";

/** Where a CA bundle from `tls.caBundle` is mounted in every pod (read-only ConfigMap volume), and
 * the variables that point the job's clients at it. */
export const CA_DIR = "/etc/db-backup/tls";
export const CA_FILE_NAME = "ca.crt";
export const CA_PATH = `${CA_DIR}/${CA_FILE_NAME}`;

/** The only sslmode a production stack accepts: the server's certificate chain and its name are
 * checked (libpq's verify-full; the job's own connections read the same setting). */
export const REQUIRED_SSLMODE = "verify-full";

/** A database URL's problem, or undefined. In production it must carry sslmode=verify-full. */
export function dbUrlProblem(value: string, production: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return "is not a URL: expected postgres://user:password@host:5432/database";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    return `must start with postgres:// or postgresql:// (it starts with ${url.protocol.replace(/[^a-z+.-]/g, "")}//)`;
  }
  if (!url.hostname) return "has no host: expected postgres://user:password@host:5432/database";
  if (production) {
    const modes = url.searchParams.getAll("sslmode");
    if (modes.length === 0 || modes.some((m) => m !== REQUIRED_SSLMODE)) {
      const has = modes.length === 0 ? "it has no sslmode" : `it has sslmode=${modes.map((m) => (/^[a-z-]{1,20}$/.test(m) ? m : "…")).join(",")}`;
      return (
        `a production stack needs sslmode=${REQUIRED_SSLMODE} in this URL (${has}): append ?sslmode=${REQUIRED_SSLMODE} so the pods check the ` +
        `server's certificate and name, and give its CA in db-backup:tls.caBundle unless a public CA signs it`
      );
    }
  }
  return undefined;
}

/** The host of a database URL (an IPv6 literal without brackets), or undefined. */
export function dbUrlHost(value: string): string | undefined {
  try {
    return new URL(value.trim()).hostname.replace(/^\[|\]$/g, "") || undefined;
  } catch {
    return undefined;
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A PEM bundle of CA certificates (public: a plain setting), or its problem. */
export function caBundleProblem(pem: string): string | undefined {
  if (/PRIVATE KEY-----/.test(pem)) return "holds a private key: a CA bundle holds certificates only (and is plain config, not a secret); remove the key";
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)";
  const rest = pem.replace(PEM_BLOCK, "").trim();
  if (rest.length > 0) return "holds text outside its PEM certificates: give only the CA certificates, each from BEGIN to END";
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `certificate ${i + 1} of ${blocks.length} cannot be read (${(error as Error).message})`;
    }
  }
  return undefined;
}

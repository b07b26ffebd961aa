// Secrets never reach logs, events, manifests or error messages. Every string the job prints or
// publishes passes through a Redactor that knows the secrets of this run.

export const REDACTED = "***";

/** A URL with its password (and any token-like query parameters) replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = REDACTED;
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) parsed.searchParams.set(key, REDACTED);
    }
    return parsed.toString();
  } catch {
    // Not a URL we can parse: hide the password of user:password@, a lone token@ (NATS's token
    // form) whole, and password-like query parameters.
    return url
      .replace(/(:\/\/[^:/@\s]*:)[^@\s]*@/g, `$1${REDACTED}@`)
      .replace(/(:\/\/)[^:@]*@/g, `$1${REDACTED}@`)
      .replace(/([?&][^=&]*(?:pass|secret|token|key)[^=&]*=)[^&\s]*/gi, `$1${REDACTED}`);
  }
}

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers secret values (and their URL-encoded forms); empty values are ignored. */
  add(...values: (string | undefined | null)[]): this {
    for (const value of values) {
      if (!value || value.length < 3) continue;
      this.secrets.add(value);
      const encoded = encodeURIComponent(value);
      if (encoded !== value) this.secrets.add(encoded);
    }
    return this;
  }

  /** Registers the password of a connection URL. */
  addUrl(url: string | undefined): this {
    if (!url) return this;
    try {
      const parsed = new URL(url);
      if (parsed.password) this.add(decodeURIComponent(parsed.password), parsed.password);
    } catch {
      /* not a URL: nothing to learn */
    }
    return this;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join(REDACTED);
    }
    return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/g, `$1${REDACTED}@`);
  }
}

/**
 * What a cloud's credentials look like, so that they are kept out of log lines
 * whatever produced the text. Each provider module declares its own (its token
 * prefixes, its key-id formats, the field names its config and SDK use for secrets),
 * and the logger is built from the provider list, so a new cloud is scrubbed as soon
 * as it is listed; the no-secrets test fails a provider that declares none.
 */
export interface SecretShapes {
  /** Text shapes of tokens and keys, each with the `g` flag; whatever a pattern matches becomes "[REDACTED]". */
  readonly patterns: readonly RegExp[];
  /** Names of fields whose values are secrets, censored wherever a logged object has them (top level or one level down). */
  readonly fields: readonly string[];
}

/**
 * Shapes no cloud owns: JWTs (Entra ID tokens, SPIFFE JWT-SVIDs, Kubernetes
 * service-account tokens), HTTP credentials, and long key-like runs (secret keys,
 * session tokens, signatures); and the service's own fields that can hold one.
 */
export const genericSecretShapes: SecretShapes = {
  patterns: [/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, /(?:Bearer|Basic)\s+[\w.~+/=-]+/gi, /[A-Za-z0-9+/=_-]{32,}/g],
  fields: ["token", "secret", "authorization", "kubeconfig"],
};

const redacted = "[REDACTED]";

/**
 * A loggable summary of an error: its name, code, reason and scrubbed message, and
 * its causes'. A type rather than an interface, so that it is a plain record to code
 * that builds log lines.
 */
export type ErrorSummary = {
  readonly type: string;
  readonly code?: string | number;
  readonly reason?: string;
  readonly message?: string;
  readonly cause?: ErrorSummary;
};

/**
 * Cleans text of every shape it was built with, in the order given, except that
 * the generic long-run rule always runs last, so that a token is replaced whole,
 * prefix included. Patterns of several providers written alike are applied once.
 */
export class SecretScrubber {
  private readonly patterns: readonly RegExp[];
  /** pino `redact` paths: every field, at the top level and one level down. */
  readonly redactPaths: readonly string[];

  constructor(shapes: readonly SecretShapes[]) {
    const bySource = new Map<string, RegExp>();
    for (const pattern of shapes.flatMap((s) => s.patterns)) bySource.set(`${pattern.source}/${pattern.flags}`, pattern);
    this.patterns = [...bySource.values()].sort((a, b) => Number(isLongRun(a)) - Number(isLongRun(b)));
    const fields = [...new Set(shapes.flatMap((s) => s.fields))];
    this.redactPaths = fields.flatMap((field) => [field, `*.${field}`]);
  }

  /** `text` with anything shaped like a credential replaced by "[REDACTED]". */
  scrub(text: string): string {
    return this.patterns.reduce((acc, pattern) => acc.replace(pattern, redacted), text);
  }

  /**
   * A loggable summary of an error and its causes: names, codes and scrubbed
   * messages, at most 300 characters each. Stacks and raw upstream bodies are left
   * out, since they can echo request data.
   */
  summary(err: unknown, depth = 0): ErrorSummary | undefined {
    if (err === undefined || err === null || depth > 3) return undefined;
    if (!(err instanceof Error)) return { type: typeof err };
    const e = err as Error & { code?: unknown; reason?: unknown };
    const cause = e.cause !== undefined ? this.summary(e.cause, depth + 1) : undefined;
    return {
      type: e.name,
      ...(typeof e.code === "string" || typeof e.code === "number" ? { code: e.code } : {}),
      ...(typeof e.reason === "string" ? { reason: e.reason } : {}),
      message: this.scrub(e.message).slice(0, 300),
      ...(cause ? { cause } : {}),
    };
  }
}

/** The generic rule for long key-like runs, which must run last. */
function isLongRun(pattern: RegExp): boolean {
  return pattern.source === genericSecretShapes.patterns.at(-1)?.source;
}

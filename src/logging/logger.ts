import { pino, type DestinationStream, type Logger } from "pino";
import { isoNow } from "./iso-time.js";
import { type LineWriter, stdoutWriter } from "./line-writer.js";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The pino level; "info" logs one line per RPC. */
  level?: string;
  /** Where lines go; standard output by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
}

/**
 * Creates the JSON-lines logger of the service. Field names that could hold a
 * credential are censored as a second line of defence; the first is that no code
 * logs a token or secret, and error messages are built without them.
 *
 * Lines go to standard output through the process's one {@link stdoutWriter}, which
 * an audit log without a file shares: each line is written whole and in order, and a
 * stalled reader never blocks the event loop (lines are dropped and counted instead
 * once its bounded queue is full).
 */
export function createLogger({ level = "info", destination }: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: { service: serviceName },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          "token",
          "*.token",
          "secret",
          "*.secret",
          "secretAccessKey",
          "*.secretAccessKey",
          "sessionToken",
          "*.sessionToken",
          "authorization",
          "*.authorization",
          "kubeconfig",
          "*.kubeconfig",
        ],
        censor: "[REDACTED]",
      },
    },
    destination ?? lineDestination(stdoutWriter()),
  );
}

const serviceName = "cluster-token-service";

/**
 * Writes one line in the logger's format (level, time, service, `fields`, msg) to its
 * destination, without pino's serializers and redaction. For the access log only: its
 * fields are built from the call's own values (RPC, code, ids, an already scrubbed
 * error summary), never from a request or a credential, and pino's generic
 * serialization and wildcard redaction were about 5% of a cached GenerateToken's CPU.
 */
export function writeTrustedLine(logger: Logger, level: "info" | "error", fields: object, msg: string): void {
  if (!logger.isLevelEnabled(level)) return;
  const destination = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  const body = JSON.stringify(fields);
  destination?.write(
    `{"level":"${level}","time":"${isoNow()}","service":"${serviceName}"${body === "{}" ? "" : `,${body.slice(1, -1)}`},"msg":${JSON.stringify(msg)}}\n`,
  );
}

/** pino writes each line with one `write` call, so a line maps onto one queued line of `writer`. */
function lineDestination(writer: LineWriter): DestinationStream {
  return { write: (line: string) => writer.append(line) };
}

/** Credential shapes that must never reach a log line, whatever produced the text. */
const credentialPatterns: readonly RegExp[] = [
  /k8s-(?:aws|ncp)-v1\.[\w+/=-]+/g, // EKS and NKS bearer tokens
  /k8s-ack-v2\.[\w+/=-]+/g, // ACK RAM tokens
  /\bLTAI[0-9A-Za-z]{12,30}\b/g, // Alibaba Cloud AccessKey ids
  /ya29\.[\w.-]+/g, // Google OAuth2 access tokens
  /eyJ[\w-]+\.[\w-]+\.[\w-]*/g, // JWTs
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /(?:Bearer|Basic)\s+[\w.~+/=-]+/gi,
  /[A-Za-z0-9+/=_-]{32,}/g, // long key-like runs: secret keys, session tokens, signatures
];

/** Replaces anything shaped like a credential in `text` with "[REDACTED]". */
export function scrubCredentials(text: string): string {
  return credentialPatterns.reduce((acc, pattern) => acc.replace(pattern, "[REDACTED]"), text);
}

/**
 * A loggable summary of an error and its causes: names, codes and scrubbed
 * messages, at most 300 characters each. Stacks and raw upstream bodies are left
 * out, since they can echo request data.
 */
export function errorSummary(err: unknown, depth = 0): Record<string, unknown> | undefined {
  if (err === undefined || err === null || depth > 3) return undefined;
  if (!(err instanceof Error)) return { type: typeof err };
  const e = err as Error & { code?: unknown; reason?: unknown };
  return {
    type: e.name,
    ...(typeof e.code === "string" || typeof e.code === "number" ? { code: e.code } : {}),
    ...(typeof e.reason === "string" ? { reason: e.reason } : {}),
    message: scrubCredentials(e.message).slice(0, 300),
    ...(e.cause !== undefined ? { cause: errorSummary(e.cause, depth + 1) } : {}),
  };
}

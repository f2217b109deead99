import { pino, type DestinationStream, type Logger } from "pino";
import { isoNow } from "./iso-time.js";
import { type LineWriter, stdoutWriter } from "./line-writer.js";
import { type ErrorSummary, genericSecretShapes, SecretScrubber, type SecretShapes } from "./secret-scrubber.js";

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The pino level; "info" logs one line per RPC. */
  level?: string;
  /** Where lines go; standard output by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
  /**
   * The clouds this process serves (the provider list, passed in by the composition
   * root): each declares the shapes of its tokens and keys and its secret fields.
   */
  providers: readonly { readonly secretShapes: SecretShapes }[];
}

/** Where a logger keeps its scrubber; child loggers inherit it through their prototype. */
const scrubberKey = Symbol("cluster-token.secretScrubber");
const genericScrubber = new SecretScrubber([genericSecretShapes]);

/**
 * Creates the JSON-lines logger of the service. As a second line of defence (the
 * first is that no code logs a token or secret, and error messages are built
 * without them), fields named like a secret are censored, and an `error` field
 * holding an Error is logged as its {@link errorSummary}, both after the shapes of
 * every provider served and the generic ones.
 *
 * Lines go to standard output through the process's one {@link stdoutWriter}, which
 * an audit log without a file shares: each line is written whole and in order, and a
 * stalled reader never blocks the event loop (lines are dropped and counted instead
 * once its bounded queue is full).
 */
export function createLogger({ level = "info", destination, providers }: LoggerOptions): Logger {
  // The clouds' own shapes first, so that a token is replaced whole before a generic shape takes a piece of it.
  const scrubber = new SecretScrubber([...providers.map((p) => p.secretShapes), genericSecretShapes]);
  const logger = pino(
    {
      level,
      base: { service: serviceName },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: (value: unknown) => (value instanceof Error ? scrubber.summary(value) : value) },
      redact: { paths: [...scrubber.redactPaths], censor: "[REDACTED]" },
    },
    destination ?? lineDestination(stdoutWriter()),
  );
  Object.defineProperty(logger, scrubberKey, { value: scrubber });
  return logger;
}

/** The scrubber `logger` was built with; the generic one for a logger {@link createLogger} did not make. */
function scrubberOf(logger: Logger): SecretScrubber {
  return (logger as unknown as Record<symbol, SecretScrubber | undefined>)[scrubberKey] ?? genericScrubber;
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

/** `text` with anything shaped like a credential, after `logger`'s shapes, replaced by "[REDACTED]". */
export function scrubCredentials(text: string, logger: Logger): string {
  return scrubberOf(logger).scrub(text);
}

/**
 * A loggable summary of an error and its causes, scrubbed after `logger`'s shapes:
 * what `logger` writes for an `error` field, for lines built without pino's
 * serializers (the access log). Stacks and raw upstream bodies are left out, since
 * they can echo request data.
 */
export function errorSummary(err: unknown, logger: Logger): ErrorSummary | undefined {
  return scrubberOf(logger).summary(err);
}

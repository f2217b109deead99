import { closeSync, openSync, writeSync } from "node:fs";
import { pino, type Logger } from "pino";
import { ServiceError } from "../errors/service-error.js";

/** One audit line: an issuance or a denial. Never a token, a key or a secret. */
export interface AuditEntry {
  principal: string;
  transport: string;
  rpc: string;
  requestId: string;
  /** "issued" for a token or kubeconfig handed out, "denied" for authentication, authorization and rate-limit refusals, "failed" otherwise. */
  outcome: "issued" | "denied" | "failed";
  /** The gRPC code name, e.g. "OK", "PERMISSION_DENIED". */
  code: string;
  clusterId?: string;
  provider?: string;
  /** RFC 3339. */
  tokenExpiry?: string;
  tokenFingerprint?: string;
  kubeconfigMode?: string;
}

/** Lets a write wait out EAGAIN (a full pipe) for this long before the sink counts as failed. */
const backpressureBudgetMs = 2_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `line` to `fd`, waiting out a full non-blocking pipe; throws on any other error. */
function writeFully(fd: number, line: string): void {
  const data = Buffer.from(line);
  const deadline = Date.now() + backpressureBudgetMs;
  for (let offset = 0; offset < data.length; ) {
    try {
      offset += writeSync(fd, data, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN" || Date.now() > deadline) throw err;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

/**
 * The audit log: one JSON line (pino) per issuance or denial, written synchronously
 * to a file or to standard output before the response leaves. It fails closed, as
 * Vault does: when a line cannot be written, the call fails with UNAVAILABLE
 * (AUDIT_FAILED) and no token or kubeconfig is returned.
 */
export class AuditLog {
  private readonly logger: Logger;
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly owned: boolean,
  ) {
    this.logger = pino(
      { base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: "event", formatters: { level: () => ({ log: "audit" }) } },
      { write: (line: string) => writeFully(this.fd, line) },
    );
  }

  /** Appends to `file`, or writes to standard output without one. @throws when the file cannot be opened; the server then refuses to start. */
  static open(file: string | undefined): AuditLog {
    return file === undefined ? new AuditLog(1, false) : new AuditLog(openSync(file, "a"), true);
  }

  /** Writes one line, or throws UNAVAILABLE so that the caller's call fails. */
  record(entry: AuditEntry): void {
    try {
      // A closed file's descriptor number may already belong to another file.
      if (this.closed) throw new Error("the audit log is closed");
      this.logger.info(entry, entry.outcome);
    } catch (err) {
      throw new ServiceError({ reason: "AUDIT_FAILED", message: "the audit log cannot be written, so nothing is issued", cause: err });
    }
  }

  /** Closes the file; every later record fails closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) closeSync(this.fd);
  }
}

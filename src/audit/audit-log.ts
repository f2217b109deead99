import { ServiceError } from "../errors/service-error.js";
import { isoNow } from "../logging/iso-time.js";
import { LineWriter, stdoutWriter } from "../logging/line-writer.js";

/** One audit line: an issuance or a denial. Never a token, a key or a secret. */
export interface AuditEntry {
  principal: string;
  transport: string;
  rpc: string;
  requestId: string;
  /** The call's trace and span ids (W3C trace context, hex) when tracing is on; absent otherwise. */
  traceId?: string | undefined;
  spanId?: string | undefined;
  /** "issued" for a token or kubeconfig handed out, "denied" for authentication, authorization and rate-limit refusals, "failed" otherwise. */
  outcome: "issued" | "denied" | "failed";
  /** The gRPC code name, e.g. "OK", "PERMISSION_DENIED". */
  code: string;
  /** The reason of a failure, e.g. "AUDIT_FAILED". */
  reason?: string;
  clusterId?: string;
  provider?: string;
  /**
   * The cloud identity (a `credentials` entry's name) an issuance minted with; on a
   * denial or failure, the one chosen, or else the one the request named.
   */
  identity?: string;
  /**
   * For an exec kubeconfig, which mints nothing: the identity it names for kubectl's
   * GenerateToken calls (chosen from the caller's GenerateToken grants).
   */
  execIdentity?: string;
  /** RFC 3339. */
  tokenExpiry?: string;
  tokenFingerprint?: string;
  kubeconfigMode?: string;
}

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** How long an issuance waits for its line to be written before it fails closed. */
  commitTimeoutMs: number;
  /** Told how long each issuance waited for its line, and of each that failed closed (metrics). */
  observer?: AuditObserver;
}

/** What the audit log reports as it writes. */
export interface AuditObserver {
  written(seconds: number): void;
  failed(): void;
}

/**
 * The audit log: one JSON line per issuance or denial, appended to a file or to
 * standard output (then through the same writer as the logger, so lines never
 * interleave). It fails closed, as Vault does, without ever blocking the event loop:
 * an issuance waits for its own line to be written (group commit, see
 * {@link LineWriter}), and when the sink fails or stays stalled past
 * `commitTimeoutMs`, the call fails with UNAVAILABLE (`AUDIT_FAILED`) and no token
 * or kubeconfig is returned. Denials and failures are recorded without waiting: the
 * call fails either way, so health checks, listings and refusals answer at once.
 *
 * A file rotates as Vault's does: move it, then {@link reopen} (SIGHUP). A file moved
 * or deleted without a signal is noticed after the next write, and the path reopened
 * (a deleted file's lines are written again to the new one); a path that cannot be
 * opened fails every issuance. A line torn by a full disk is completed before
 * anything else, and the lines nobody waits for, a refusal's `failed` line among
 * them, are written once there is room. See `LineSink`.
 */
export class AuditLog {
  private closed = false;

  private constructor(
    private readonly writer: LineWriter,
    private readonly commitTimeoutMs: number,
    private readonly observer: AuditObserver | undefined,
  ) {}

  /**
   * Appends to `file`, or writes to standard output without one.
   * @throws when the file cannot be opened (a FIFO without a reader included); the server then refuses to start.
   */
  static open(file: string | undefined, { commitTimeoutMs, observer }: AuditLogOptions): AuditLog {
    return new AuditLog(file === undefined ? stdoutWriter() : LineWriter.openFile(file), commitTimeoutMs, observer);
  }

  /** Writes the line of an issuance and resolves once it is written; otherwise rejects with UNAVAILABLE `AUDIT_FAILED`. */
  async record(entry: AuditEntry): Promise<void> {
    const started = performance.now();
    try {
      if (this.closed) throw new Error("the audit log is closed");
      await this.writer.appendAndWait(line(entry), this.commitTimeoutMs);
      this.observer?.written((performance.now() - started) / 1000);
    } catch (err) {
      this.observer?.failed();
      throw new ServiceError({ reason: "AUDIT_FAILED", message: "the audit log cannot be written, so nothing is issued", cause: err });
    }
  }

  /** Queues the line of a denial or failure without waiting for it. */
  note(entry: AuditEntry): void {
    if (!this.closed) this.writer.append(line(entry));
  }

  /**
   * Reopens the audit file at its path (rotation: move the file, then send SIGHUP):
   * the next line goes to a new file there, and none goes to the old one after this
   * call. Resolves once the file is open; rejects when it cannot be, and issuance then
   * fails closed until it can. A no-op on standard output.
   */
  reopen(): Promise<void> {
    return this.closed ? Promise.resolve() : this.writer.reopen();
  }

  /** Resolves once the lines queued so far are written or failed, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    return this.writer.drained(timeoutMs);
  }

  /** Writes what is queued (for a bounded time) and closes a file sink; every later record fails closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.writer === stdoutWriter()) await this.writer.drained(this.commitTimeoutMs);
    else await this.writer.close(this.commitTimeoutMs);
  }
}

/** The line of `entry`, in the shape pino wrote before: `log`, `time`, the entry, then `event` (its outcome, a closed set). */
function line(entry: AuditEntry): string {
  return `{"log":"audit","time":"${isoNow()}",${JSON.stringify(entry).slice(1, -1)},"event":"${entry.outcome}"}\n`;
}

import type { Logger } from "pino";
import { raceAbort } from "../common/deadline.js";
import { RepeatingPass } from "../common/repeating-pass.js";
import type { ServiceConfig } from "../config/config-schema.js";
import { describeSecretRef, type PlacedSecretRef, secretFileFreshMs, secretProblem, secretRefsIn } from "../config/secret-ref.js";

/**
 * How often every secret reference is checked again: as often as a secret file is
 * read again for calls, so that the check and the calls agree within that time.
 */
export const secretCheckIntervalMs = secretFileFreshMs;
/** A secret file whose read has not ended by then (a hung mount) counts as unresolvable for this pass. */
const defaultReadTimeoutMs = 2_000;

/** Options of {@link SecretReferenceCheck}. */
export interface SecretCheckOptions {
  readonly logger: Logger;
  /**
   * Told after every pass how many references of each credentials entry that has any
   * cannot be resolved (0 when all can): the `credentials` label of a metric.
   */
  readonly report: (unresolvable: ReadonlyMap<string, number>) => void;
  /** The pause between two passes; {@link secretCheckIntervalMs} by default. */
  readonly intervalMs?: number;
  /** How long one file read may take; 2 s by default. */
  readonly readTimeoutMs?: number;
}

/** A reference of the running config, and who holds it. */
interface CheckedRef extends PlacedSecretRef {
  /** The credentials entry. */
  readonly credentials: string;
  /** Names this reference across passes and reloads. */
  readonly id: string;
}

/**
 * Finds the secret references of the running config that cannot be resolved (an
 * environment variable unset or empty, a file missing, unreadable or empty), at
 * start-up, after every applied reload and every few seconds, rather than on the
 * first call that needs them. Each is a `warn` line naming the credentials entry, the
 * key and the reference (`env NAME`, `file PATH`), never the secret; a reference that
 * resolves later is an `info` line; the counts go to {@link SecretCheckOptions.report}.
 *
 * It never stops the service: start-up is not refused for a secret that is missing
 * (a Secret mounted a moment late, a sidecar such as a Vault agent that writes its
 * file after the service starts, or one broken entry among several would otherwise
 * keep every cluster from being served), and calls that need the secret fail with
 * FAILED_PRECONDITION `SECRET_UNRESOLVABLE` meanwhile, as before.
 *
 * Bounded: one reference at a time, each file read abandoned after a deadline, and
 * once one hangs no file is read (each keeps its last state) until that read has
 * ended, however many passes come, so that a hung mount holds one thread of libuv's
 * pool; the next pass starts only after the last has ended ({@link RepeatingPass}).
 * Its timer does not keep the process alive.
 */
export class SecretReferenceCheck {
  private refs: readonly CheckedRef[] = [];
  /** The problem of each reference that could not be resolved at the last pass, by id. */
  private problems = new Map<string, string>();
  /** Whether the next pass names every unresolvable reference (the first after a configure), or only changes. */
  private announce = false;
  /**
   * A file read given up on that has not ended yet. Until it ends no file is read
   * (they keep their last state), so that a hung mount holds one thread of libuv's
   * pool however many passes come, never all four (which would hang every file
   * operation of the process).
   */
  private hungRead: Promise<void> | undefined;
  private readonly passes: RepeatingPass;

  constructor(private readonly options: SecretCheckOptions) {
    this.passes = new RepeatingPass({
      pass: (signal) => this.pass(signal),
      intervalMs: options.intervalMs ?? secretCheckIntervalMs,
      onError: (err) => options.logger.error({ error: err }, "the secret reference check failed; it runs again at the next interval"),
    });
  }

  /**
   * Checks the references of `config`'s credentials at once, logging every one that
   * cannot be resolved (a start-up, an applied reload), then again every interval,
   * logging only those whose state changed.
   */
  configure(config: Pick<ServiceConfig, "credentials">): void {
    this.refs = Object.entries(config.credentials).flatMap(([credentials, entry]) =>
      secretRefsIn(entry).map((placed) => ({
        ...placed,
        credentials,
        id: `${credentials}|${placed.key}|${describeSecretRef(placed.ref)}`,
      })),
    );
    this.announce = true;
    this.passes.restart();
  }

  /**
   * Resolves once a pass that started after this call has ended: tests wait for this
   * instead of sleeping. While someone waits, the check keeps the process alive.
   */
  checked(): Promise<void> {
    return this.passes.passed();
  }

  /** Stops checking; a pass under way reports nothing more. */
  close(): void {
    this.passes.close();
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const { logger } = this.options;
    const readTimeoutMs = this.options.readTimeoutMs ?? defaultReadTimeoutMs;
    const { refs, announce } = this;
    const problems = new Map<string, string>();
    for (const ref of refs) {
      const before = this.problems.get(ref.id);
      // While a read hangs, a file's state stays as it was until a pass reaches it.
      const problem = this.hungRead !== undefined && "file" in ref.ref ? before : await this.problemOf(ref, readTimeoutMs);
      if (signal.aborted) return;
      if (problem !== undefined) problems.set(ref.id, problem);
      const fields = { credentials: ref.credentials, key: ref.key, reference: describeSecretRef(ref.ref) };
      if (problem !== undefined && (announce || before === undefined)) {
        logger.warn(
          { ...fields, problem },
          "a secret reference cannot be resolved; calls that need these credentials fail with SECRET_UNRESOLVABLE until it can",
        );
      } else if (problem === undefined && before !== undefined && !announce) {
        logger.info(fields, "a secret reference can be resolved now");
      }
    }
    this.problems = problems;
    this.announce = false;
    const counts = new Map<string, number>();
    for (const ref of refs) counts.set(ref.credentials, (counts.get(ref.credentials) ?? 0) + (problems.has(ref.id) ? 1 : 0));
    this.options.report(counts);
    if (announce) logger.info({ references: refs.length, unresolvable: problems.size }, "secret references checked");
  }

  /** Why `ref` cannot be resolved now, or undefined; a file read that has not ended within `readTimeoutMs` becomes {@link hungRead}. */
  private async problemOf(ref: CheckedRef, readTimeoutMs: number): Promise<string | undefined> {
    const read = secretProblem(ref.ref);
    try {
      return await raceAbort(read, AbortSignal.timeout(readTimeoutMs));
    } catch {
      const hung: Promise<void> = read.then(() => {
        if (this.hungRead === hung) this.hungRead = undefined;
      });
      this.hungRead = hung;
      return `could not be read within ${readTimeoutMs / 1000} s`;
    }
  }
}

import type { Logger } from "pino";
import type { Refusal, SkipReason } from "./cluster-admission.js";

/** The longest id shown in a log line: an invalid one can be as long as a cloud lets a name be. */
const shownIdLength = 100;

/**
 * Reports the clusters a scope's listings could not register, each once: a `warn`
 * line when a cluster is first skipped for a reason, none while later listings
 * skip it again, and a new one if it is skipped again after a listing that did
 * not. Clusters over the account's cap are reported in one line per scope, not one
 * each. It remembers only the last listing's skips of each scope.
 */
export class SkipReport {
  private readonly seen = new Map<string, ReadonlySet<string>>();

  /** Logs what `skipped` (the last complete listing of `scope`, of `listed` clusters) holds that the listing before did not. */
  report(logger: Logger, account: string, scope: string, skipped: readonly Refusal[], listed: number, maxClusters: number): void {
    const before = this.seen.get(scope) ?? new Set<string>();
    const now = new Set<string>();
    let overCap = 0;
    for (const refusal of skipped) {
      if (refusal.reason === "over_cap") {
        overCap++;
        now.add("over_cap");
        continue;
      }
      const key = `${refusal.reason}\u0000${refusal.id}`;
      now.add(key);
      if (before.has(key)) continue;
      const id = refusal.id.length > shownIdLength ? `${refusal.id.slice(0, shownIdLength)}…` : refusal.id;
      logger.warn({ account, scope, cluster_id: id, reason: refusal.reason, problem: refusal.detail }, "a discovered cluster was skipped");
    }
    if (overCap > 0 && !before.has("over_cap")) {
      logger.warn(
        { account, scope, listed, skipped: overCap, maxClusters },
        "the account holds more clusters than its maxClusters; those past it (by id) are not registered",
      );
    }
    this.seen.set(scope, now);
  }

  /** How many of `skipped` there are for each reason. */
  static counts(skipped: readonly Refusal[]): Map<SkipReason, number> {
    const counts = new Map<SkipReason, number>();
    for (const { reason } of skipped) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    return counts;
  }
}

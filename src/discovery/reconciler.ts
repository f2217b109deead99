/** What a complete listing of one scope changes in what that scope is known to hold. */
export interface Reconciliation<T> {
  /** Listed now, unknown before. */
  readonly added: readonly T[];
  /** Known before and listed now, but different. */
  readonly updated: readonly T[];
  /** Known before, and absent from the complete listing: gone from the cloud. */
  readonly removed: readonly T[];
  /** Known before and listed the same: nothing to do. */
  readonly unchanged: number;
}

/**
 * Compares the last known clusters of one scope with a complete listing of the same
 * scope, by id, and says what to add, update and remove (Teleport's
 * `services.Reconciler`). It is pure, and it sees one scope only, so it can never
 * touch another scope's clusters or a configured one.
 *
 * It must be given complete listings only (SPIRE's rule, stricter than Teleport's):
 * a listing that failed on any page, or was partial, reconciles nothing, so that a
 * cluster is removed only when a listing that succeeded no longer holds it.
 */
export function reconcile<T>(
  known: ReadonlyMap<string, T>,
  listed: ReadonlyMap<string, T>,
  same: (a: T, b: T) => boolean,
): Reconciliation<T> {
  const added: T[] = [];
  const updated: T[] = [];
  const removed: T[] = [];
  let unchanged = 0;
  for (const [id, now] of listed) {
    const before = known.get(id);
    if (before === undefined) added.push(now);
    else if (same(before, now)) unchanged++;
    else updated.push(now);
  }
  for (const [id, before] of known) if (!listed.has(id)) removed.push(before);
  return { added, updated, removed, unchanged };
}

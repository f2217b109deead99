/** A value's place in an {@link ArrivalList}; removing it twice is harmless. */
export interface ArrivalEntry<T> {
  readonly value: T;
}

class Entry<T> implements ArrivalEntry<T> {
  prev: Entry<T> | undefined = undefined;
  next: Entry<T> | undefined = undefined;
  listed = true;

  constructor(readonly value: T) {}
}

/**
 * Values in the order they arrived: O(1) to add, remove and read the oldest, and,
 * unlike a Map or Set, nothing left behind. A Map that holds short-lived objects
 * rehashes now and then, and its old table, garbage in the old generation, still
 * refers to the objects it held: every scavenge keeps them, and their whole call
 * with them, alive until the next full collection. On the per-call path that
 * tripled the garbage collector's work. Here a removed entry forgets its neighbours
 * and theirs forget it, so nothing refers to a call after it ends.
 */
export class ArrivalList<T> {
  private head: Entry<T> | undefined = undefined;
  private tail: Entry<T> | undefined = undefined;
  private count = 0;

  /** How many values are listed. */
  get size(): number {
    return this.count;
  }

  /** The oldest value listed. */
  get oldest(): T | undefined {
    return this.head?.value;
  }

  /** Lists `value` as the newest. */
  add(value: T): ArrivalEntry<T> {
    const entry = new Entry(value);
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.count++;
    return entry;
  }

  /** Unlists the value of `entry`, if it still is. */
  remove(entry: ArrivalEntry<T>): void {
    const listed = entry as Entry<T>;
    if (!listed.listed) return;
    listed.listed = false;
    if (listed.prev) listed.prev.next = listed.next;
    else this.head = listed.next;
    if (listed.next) listed.next.prev = listed.prev;
    else this.tail = listed.prev;
    listed.prev = undefined;
    listed.next = undefined;
    this.count--;
  }
}

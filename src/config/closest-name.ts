/**
 * The edit distance between `a` and `b` with adjacent transpositions counting as one
 * edit (optimal string alignment), so that `provdier` is one edit from `provider`,
 * as a typing slip is.
 */
function editDistance(a: string, b: string): number {
  // Three rows of the dynamic-programming table: two before the current one, for transpositions.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(previous, j) + 1, at(current, j - 1) + 1, at(previous, j - 1) + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(before, j - 2) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return at(previous, b.length);
}

/** A cell of a row, every one of which is filled before it is read. */
function at(row: readonly number[], index: number): number {
  return row[index] ?? Number.POSITIVE_INFINITY;
}

/** Names longer than this are no typing slip of a config key or provider name, and are not compared. */
const maxComparedLength = 64;

/**
 * The name of `known` that `written` most likely misspells, or undefined when none is
 * close: the same letters in another case, or at most two edits away (one for names
 * of up to four letters, so that short names are not matched to anything). Ties go to
 * the name listed first, so that the answer is the same on every run.
 */
export function closestName(written: string, known: Iterable<string>): string | undefined {
  if (written.length > maxComparedLength) return undefined;
  const typed = written.toLowerCase();
  const allowed = typed.length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    if (name === written) continue;
    const distance = editDistance(typed, name.toLowerCase());
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

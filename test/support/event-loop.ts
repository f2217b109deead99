/**
 * Lets the event loop turn until `settled()` holds, at most `turns` times, and says
 * whether it did. Code that honours an abort settles within a few turns of it; code
 * that waits for a held upstream answer does not. No time is read or waited for, so
 * a loaded machine makes it slower, never wrong.
 */
export async function settlesWithin(turns: number, settled: () => boolean): Promise<boolean> {
  for (let turn = 0; turn < turns && !settled(); turn++) await new Promise((resolve) => setImmediate(resolve));
  return settled();
}

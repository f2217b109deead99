/**
 * Resolves once `condition` holds, checking every few milliseconds, or rejects after
 * `timeoutMs` naming `what`: for a state another process (or the kernel) reaches on
 * its own, such as a line appearing in a file, where there is no event to wait for.
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

import { AsyncLocalStorage } from "node:async_hooks";

/**
 * A value that follows one upstream attempt through a library that takes no
 * AbortSignal of its own (google-auth-library, MSAL), read back where the library
 * calls our HTTP code: an AsyncLocalStorage, switched on only while an attempt runs.
 *
 * Why switched off: on Node 20 and 22, an enabled AsyncLocalStorage installs promise
 * hooks, which then run for every promise of the process, every call of every cloud
 * included. A Google or Azure credential is fetched once an hour; the cached calls in
 * between must not pay for it (they did: a process that had minted one GKE token served
 * cached EKS tokens with 22 % more event-loop CPU). Node 24's AsyncContextFrame has no
 * hooks, and there disabling costs nothing either.
 *
 * A continuation that outlives its attempt (a request the library left running) may
 * read undefined: its attempt is over, and the caller has its answer already.
 */
export class AttemptContext<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  private running = 0;

  /** Runs `work` with `value` as the current attempt's, and switches the storage off once no attempt runs. */
  async run<R>(value: T, work: () => Promise<R>): Promise<R> {
    this.running++;
    try {
      return await this.storage.run(value, work);
    } finally {
      if (--this.running === 0) this.storage.disable();
    }
  }

  /** The value of the attempt the current async context works for, if any. */
  current(): T | undefined {
    return this.storage.getStore();
  }
}

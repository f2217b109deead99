import type { MintedToken, TokenDriver } from "../../src/drivers/driver.js";
import type { RegisteredCluster } from "../../src/core/registered-cluster.js";

/**
 * An in-process token driver for tests of the core and transports, as Go CDK keeps
 * one per capability: it mints `test-token-<cluster id>-<n>` valid for ten minutes,
 * or fails with the error the test sets.
 */
export class InMemoryTokenDriver implements TokenDriver {
  minted = 0;
  failWith: Error | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async mintToken(cluster: RegisteredCluster, signal: AbortSignal): Promise<MintedToken> {
    signal.throwIfAborted();
    if (this.failWith) throw this.failWith;
    this.minted += 1;
    return { token: `test-token-${cluster.id}-${this.minted}`, expiresAt: new Date(this.now().getTime() + 10 * 60_000) };
  }
}

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterLister } from "../../src/drivers/cluster-lister.js";
import { type LoadedDrivers, lazyDrivers } from "../../src/drivers/lazy-drivers.js";

const never = () => new AbortController().signal;
const access = { server: "https://cluster.example", certificateAuthorityData: "" };

/** A module's drivers, with a lister that answers one cluster per scope. */
function loaded(withLister: boolean): LoadedDrivers<never> {
  const lister: ClusterLister<never> = {
    listScope: async (_account, scope) => [{ entry: {}, name: `in-${scope}`, region: scope, labels: {} }],
    lookup: async (_account, name, region) => ({ entry: {}, name, region, labels: {} }),
  };
  return {
    token: { mintToken: async () => ({ token: "t", expiresAt: new Date(0) }) },
    describer: { describeCluster: async () => access },
    ...(withLister ? { lister } : {}),
  };
}

describe("lazyDrivers", () => {
  it("has a lister from the start exactly when one is declared, and hands its calls to the loaded one", async () => {
    let release: (drivers: LoadedDrivers<never>) => void = () => {};
    const drivers = lazyDrivers(() => new Promise<LoadedDrivers<never>>((resolve) => (release = resolve)), { lister: true });
    assert.ok(drivers.lister, "declared before the module is loaded");
    const listing = drivers.lister.listScope({} as never, "r1", never());
    release(loaded(true));
    assert.deepEqual(
      (await listing).map((c) => c.name),
      ["in-r1"],
    );
    assert.equal((await drivers.lister.lookup({} as never, "n", "r2", never()))?.region, "r2");
    assert.equal(lazyDrivers(async () => loaded(true)).lister, undefined, "not declared: none, whatever the module builds");
  });

  it("fails each listing, never the start-up, when the module fails to load or builds no declared lister", async () => {
    const failing = lazyDrivers(async () => Promise.reject(new Error("import failed")), { lister: true });
    await assert.rejects(failing.lister!.listScope({} as never, "r1", never()), /import failed/);
    const missing = lazyDrivers(async () => loaded(false), { lister: true });
    await assert.rejects(missing.lister!.lookup({} as never, "n", "r", never()), /did not build/);
  });
});

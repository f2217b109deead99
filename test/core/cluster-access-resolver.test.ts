import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deadlineReason } from "../../src/common/deadline.js";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import type { ClusterAccess, ClusterDescriber } from "../../src/drivers/driver.js";
import type { ClusterOf, DriverSet } from "../../src/core/registered-cluster.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { testCaData } from "../support/test-config.js";
import { FakeClock } from "../support/fake-clock.js";
import { serviceFailure } from "../support/service-failure.js";

const cluster: ClusterOf<"aws"> = {
  id: "c1",
  provider: "aws",
  region: "us-west-2",
  name: "c1",
  displayName: "",
  labels: {},
  credentials: "x",
};
const good: ClusterAccess = { server: "https://c1.example.com", certificateAuthorityData: testCaData };

/** A describer that counts calls and answers what the test says, once `gate` (if any) opens. */
function describer(answer: () => ClusterAccess | Promise<ClusterAccess>, gate?: Promise<void>) {
  const d = {
    calls: 0,
    async describeCluster(): Promise<ClusterAccess> {
      d.calls += 1;
      await gate;
      return answer();
    },
  } satisfies ClusterDescriber<ClusterOf<"aws">> & { calls: number };
  return d;
}

/**
 * A resolver with a TTL of a minute and an hour of stale-if-error on a fake clock,
 * whose cluster was discovered two minutes ago: its describer answers `good` again
 * unless the test sets `failure`.
 */
async function expiredDiscovery(options: { onStale?: (id: string) => void } = {}) {
  const clock = new FakeClock();
  const state: { failure: ServiceError | undefined } = { failure: undefined };
  const d = describer(() => {
    if (state.failure) throw state.failure;
    return good;
  });
  const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000, maxStaleMs: 3_600_000, clock, ...options });
  assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good);
  clock.advance(120_000);
  return { clock, state, d, resolver };
}

const unavailable = () =>
  new ServiceError({ reason: "UPSTREAM_UNAVAILABLE", message: "aws eks:DescribeCluster failed (HTTP 503); retry later" });

/** A promise the test opens when it chooses: calls held on it are surely in flight. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A caller's budget of `ms`: its signal and its deadline. */
const budget = (ms: number) => ({ signal: AbortSignal.timeout(ms), deadline: Date.now() + ms });

const drivers = (d: ClusterDescriber<ClusterOf<"aws">>): DriverSet => ({ aws: { describer: d } });

describe("ClusterAccessResolver", () => {
  it("uses the registry's endpoint and CA without asking the cloud", async () => {
    const d = describer(() => good);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000 });
    const access = await resolver.resolve(
      { ...cluster, endpoint: "https://configured", certificateAuthorityData: testCaData },
      budget(1000),
    );
    assert.deepEqual(access, { server: "https://configured", certificateAuthorityData: testCaData });
    assert.equal(d.calls, 0);
  });

  it("caches discovered access for the TTL, then asks again", async () => {
    const clock = new FakeClock();
    const d = describer(() => good);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000, clock });
    assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good);
    clock.advance(59_000);
    await resolver.resolve(cluster, budget(1000));
    assert.equal(d.calls, 1);
    assert.equal(resolver.knownServer(cluster), good.server);
    clock.advance(2_000);
    await resolver.resolve(cluster, budget(1000));
    assert.equal(d.calls, 2);
  });

  it("shares one upstream call among concurrent lookups", async () => {
    const held = gate();
    const d = describer(() => good, held.opened);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000 });
    const lookups = Promise.all(Array.from({ length: 10 }, () => resolver.resolve(cluster, budget(5_000))));
    held.open();
    const results = await lookups;
    assert.equal(d.calls, 1);
    assert.ok(results.every((r) => r.server === good.server));
  });

  it("lets one caller give up at its deadline while the lookup completes for the others", async () => {
    const held = gate();
    const d = describer(() => good, held.opened);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000 });
    const deadline = new AbortController();
    const impatient = serviceFailure(resolver.resolve(cluster, { signal: deadline.signal, deadline: Date.now() + 5_000 }));
    const patient = resolver.resolve(cluster, budget(5_000));
    deadline.abort(deadlineReason());
    assert.equal((await impatient).code, "DeadlineExceeded");
    held.open();
    assert.deepEqual(await patient, good);
    assert.equal(d.calls, 1);
  });

  it("never caches failures", async () => {
    let fail = true;
    const d = describer(() => {
      if (fail) throw new ServiceError({ reason: "UPSTREAM_UNAVAILABLE", message: "down" });
      return good;
    });
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000 });
    assert.equal((await serviceFailure(resolver.resolve(cluster, budget(1000)))).code, "Unavailable");
    fail = false;
    assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good);
  });

  it("rejects discovered access without an https server or a PEM CA", async () => {
    for (const bad of [
      { server: "http://c1.example.com", certificateAuthorityData: testCaData },
      { server: "not a url", certificateAuthorityData: testCaData },
      { server: "https://c1.example.com", certificateAuthorityData: Buffer.from("hello").toString("base64") },
      { server: "https://c1.example.com", certificateAuthorityData: "" },
    ]) {
      const resolver = new ClusterAccessResolver(drivers(describer(() => bad)), { ttlMs: 60_000 });
      const err = await serviceFailure(resolver.resolve(cluster, budget(1000)));
      assert.deepEqual([err.code, err.reason], ["Unavailable", "UPSTREAM_BAD_RESPONSE"]);
    }
  });

  it("fills only what the registry lacks", async () => {
    const resolver = new ClusterAccessResolver(drivers(describer(() => good)), { ttlMs: 60_000 });
    assert.deepEqual(await resolver.resolve({ ...cluster, endpoint: "https://pinned.example.com" }, budget(1000)), {
      server: "https://pinned.example.com",
      certificateAuthorityData: testCaData,
    });
  });

  it("answers FAILED_PRECONDITION naming the provider when it cannot discover", async () => {
    const err = await serviceFailure(new ClusterAccessResolver({}, { ttlMs: 0 }).resolve(cluster, budget(1000)));
    assert.deepEqual([err.code, err.reason, err.metadata.provider], ["FailedPrecondition", "DISCOVERY_NOT_SUPPORTED", "aws"]);
  });

  it("serves the last known access while the cloud's API is down, up to maxStaleMs, and says so", async () => {
    const stale: string[] = [];
    const { clock, state, resolver } = await expiredDiscovery({ onStale: (id) => stale.push(id) });
    state.failure = unavailable();
    assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good, "the TTL has passed and the API fails: the last known access");
    assert.deepEqual(stale, ["c1"]);
    state.failure = new ServiceError({
      reason: "UPSTREAM_UNREACHABLE",
      message: "aws eks:DescribeCluster could not be reached; retry later",
    });
    clock.advance(3_600_000);
    assert.equal(
      (await serviceFailure(resolver.resolve(cluster, budget(1000)))).reason,
      "UPSTREAM_UNREACHABLE",
      "past the maximum staleness",
    );
  });

  for (const verdict of ["UPSTREAM_NOT_FOUND", "UPSTREAM_PERMISSION_DENIED"] as const) {
    it(`ends stale serving and listing at ${verdict}, until a discovery succeeds again`, async () => {
      const { clock, state, resolver } = await expiredDiscovery();
      state.failure = new ServiceError({ reason: verdict, message: "the cloud's verdict on the cluster" });
      assert.equal((await serviceFailure(resolver.resolve(cluster, budget(1000)))).reason, verdict, "a verdict is not an outage");
      assert.equal(resolver.knownServer(cluster), undefined, "ListClusters no longer shows it");
      state.failure = unavailable();
      assert.equal(
        (await serviceFailure(resolver.resolve(cluster, budget(1000)))).reason,
        "UPSTREAM_UNAVAILABLE",
        "an outage after the verdict is not covered up with the old access",
      );
      state.failure = undefined;
      assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good);
      clock.advance(120_000);
      state.failure = unavailable();
      assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good, "after a success, stale serving is back");
    });
  }

  it("never serves stale access when the cloud's certificate is not trusted", async () => {
    const { state, d, resolver } = await expiredDiscovery();
    state.failure = new ServiceError({ reason: "UPSTREAM_TLS_UNTRUSTED", message: "untrusted" });
    const err = await serviceFailure(resolver.resolve(cluster, budget(1000)));
    assert.deepEqual([err.code, err.reason], ["FailedPrecondition", "UPSTREAM_TLS_UNTRUSTED"]);
    assert.equal(d.calls, 2, "not retried");
  });

  it("lists a discovered server only while it may be served: within the TTL and maxStaleMs", async () => {
    const clock = new FakeClock();
    const resolver = new ClusterAccessResolver(drivers(describer(() => good)), { ttlMs: 60_000, maxStaleMs: 30_000, clock });
    assert.equal(resolver.knownServer(cluster), undefined, "nothing discovered yet");
    await resolver.resolve(cluster, budget(1000));
    clock.advance(89_999);
    assert.equal(resolver.knownServer(cluster), good.server, "past the TTL, within the stale window");
    clock.advance(1);
    assert.equal(resolver.knownServer(cluster), undefined, "past maxStaleMs");
    const pinned = { ...cluster, endpoint: "https://pinned.example.com" };
    assert.equal(resolver.knownServer(pinned), "https://pinned.example.com", "a configured endpoint is always known");
  });

  it("takes over another resolver's discoveries for the clusters named, aged from when they were discovered", async () => {
    const clock = new FakeClock();
    const other: typeof cluster = { ...cluster, id: "c2", name: "c2" };
    const before = new ClusterAccessResolver(drivers(describer(() => good)), { ttlMs: 60_000, clock });
    await before.resolve(cluster, budget(1000));
    await before.resolve(other, budget(1000));
    clock.advance(50_000);
    const d = describer(() => {
      throw new ServiceError({ reason: "UPSTREAM_UNAVAILABLE", message: "down" });
    });
    const after = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000, maxStaleMs: 60_000, clock });
    after.takeOver(before, ["c1"]);
    assert.deepEqual(await after.resolve(cluster, budget(1000)), good, "fresh for 10 s more: no call to the cloud");
    assert.equal(d.calls, 0);
    assert.equal(after.knownServer(other), undefined, "c2 was not taken over");
    clock.advance(30_000);
    assert.deepEqual(await after.resolve(cluster, budget(1000)), good, "past the TTL, the new stale window applies");
    clock.advance(60_000);
    assert.equal((await serviceFailure(after.resolve(cluster, budget(1000)))).reason, "UPSTREAM_UNAVAILABLE");
  });
});

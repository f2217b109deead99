import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import type { ClusterAccess, ClusterDescriber } from "../../src/drivers/driver.js";
import type { ClusterOf, DriverSet } from "../../src/core/registered-cluster.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { testCaData } from "../support/test-config.js";
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

/** A describer that counts calls and answers what the test says, after an optional delay. */
function describer(answer: () => ClusterAccess | Promise<ClusterAccess>, delayMs = 0) {
  const d = {
    calls: 0,
    async describeCluster(): Promise<ClusterAccess> {
      d.calls += 1;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return answer();
    },
  } satisfies ClusterDescriber<ClusterOf<"aws">> & { calls: number };
  return d;
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
    let now = 1_000_000;
    const d = describer(() => good);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000, now: () => now });
    assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good);
    now += 59_000;
    await resolver.resolve(cluster, budget(1000));
    assert.equal(d.calls, 1);
    assert.equal(resolver.knownServer(cluster), good.server);
    now += 2_000;
    await resolver.resolve(cluster, budget(1000));
    assert.equal(d.calls, 2);
  });

  it("shares one upstream call among concurrent lookups", async () => {
    const d = describer(() => good, 50);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 10 }, () => resolver.resolve(cluster, budget(1000))));
    assert.equal(d.calls, 1);
    assert.ok(results.every((r) => r.server === good.server));
  });

  it("lets one caller give up at its deadline while the lookup completes for the others", async () => {
    const d = describer(() => good, 300);
    const resolver = new ClusterAccessResolver(drivers(d), { ttlMs: 60_000 });
    const impatient = serviceFailure(resolver.resolve(cluster, budget(50)));
    const patient = resolver.resolve(cluster, budget(5_000));
    assert.equal((await impatient).code, "DeadlineExceeded");
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
    let now = 1_000_000;
    let failure: ServiceError | undefined;
    const d = describer(() => {
      if (failure) throw failure;
      return good;
    });
    const stale: string[] = [];
    const resolver = new ClusterAccessResolver(drivers(d), {
      ttlMs: 60_000,
      maxStaleMs: 3_600_000,
      now: () => now,
      onStale: (id) => stale.push(id),
    });
    assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good);
    now += 120_000;
    failure = new ServiceError({ reason: "UPSTREAM_UNAVAILABLE", message: "aws eks:DescribeCluster failed (HTTP 503); retry later" });
    assert.deepEqual(await resolver.resolve(cluster, budget(1000)), good, "the TTL has passed and the API fails: the last known access");
    assert.deepEqual(stale, ["c1"]);
    failure = new ServiceError({ reason: "UPSTREAM_NOT_FOUND", message: "aws eks:DescribeCluster found no such resource (HTTP 404)" });
    assert.equal(
      (await serviceFailure(resolver.resolve(cluster, budget(1000)))).reason,
      "UPSTREAM_NOT_FOUND",
      "a cluster gone is not an outage",
    );
    failure = new ServiceError({ reason: "UPSTREAM_UNREACHABLE", message: "aws eks:DescribeCluster could not be reached; retry later" });
    now += 3_600_000;
    assert.equal(
      (await serviceFailure(resolver.resolve(cluster, budget(1000)))).reason,
      "UPSTREAM_UNREACHABLE",
      "past the maximum staleness",
    );
  });
});

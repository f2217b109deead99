import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { deadlineReason } from "../../src/common/deadline.js";
import type { AccountBase } from "../../src/config/schema-parts.js";
import type { ClusterLister, ListedCluster } from "../../src/drivers/cluster-lister.js";
import type { ErrorCode, ServiceError } from "../../src/errors/service-error.js";
import { type Fault, startFakeServer } from "../fakes/fake-http-server.js";
import { settlesWithin } from "../support/event-loop.js";
import { serviceFailure } from "../support/service-failure.js";
import type { ListerHarness, ListerHarnessEnv } from "./lister-harness.js";

export type { ListerFake, ListerHarness, ListerHarnessEnv, ListerProvider, ListingSize } from "./lister-harness.js";

const never = () => new AbortController().signal;
const names = (listed: readonly ListedCluster[]) => listed.map((c) => c.name).sort();
const numbered = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);

/**
 * The contract every cluster lister passes, as `drivertest` is for drivers: complete
 * listings across pages, a failed page, a denied scope or a partial answer rejecting
 * (never "no clusters"), the account's filter, lookups, clusters changing in the
 * cloud between listings, the cost of a listing as the fake counts it, and the
 * caller's signal. It reads no wall clock and sleeps nowhere.
 */
export function runListerConformance<A extends AccountBase>(harness: ListerHarness<A>): void {
  describe(`${harness.name} lister conformance`, () => {
    let env: ListerHarnessEnv<A>;
    let scopes: readonly string[];
    before(async () => {
      env = await harness.setUp();
      scopes = env.provider.discovery?.scopes(env.account) ?? [];
      assert.ok(scopes.length >= 2, "the harness's account must have at least two scopes");
    });
    after(() => env.close());
    beforeEach(() => env.fake.reset());
    const labelled = harness.labels !== false;
    /** The labels a listed cluster has: those it was given, or none on a cloud without labels. */
    const labelsOf = (given: Record<string, string>) => (labelled ? given : {});

    const list = (scope: string, account: A = env.account) => env.newLister().listScope(account, scope, never());
    const filtered = (tags: Record<string, string>): A => ({ ...env.account, tags });
    const failure = async (call: Promise<unknown>, code: ErrorCode): Promise<ServiceError> => {
      const err = await serviceFailure(call);
      assert.equal(err.code, code, `${err.code} ${err.reason}: ${err.message}`);
      const text = `${err.message} ${JSON.stringify(err.metadata)}`;
      for (const secret of env.secrets) assert.ok(!text.includes(secret), `the error leaks a secret: ${err.message}`);
      return err;
    };
    const assertEntry = (listed: ListedCluster) => {
      const entry = { ...listed.entry, id: "listed-cluster", provider: env.provider.name, credentials: env.account.credentials };
      const parsed = env.provider.clusterSchema.safeParse(entry);
      assert.ok(parsed.success, `the entry of ${listed.name} fails the cluster schema: ${JSON.stringify(parsed.error)}`);
    };
    const counted = async <T>(work: () => Promise<T>): Promise<{ result: T; requests: number }> => {
      const before = env.fake.apiRequests();
      const result = await work();
      return { result, requests: env.fake.apiRequests() - before };
    };

    it("lists every cluster of a scope with its region and labels, following every page, at the cloud's cost", async () => {
      const many = numbered("c", harness.pageSize ? 2 * harness.pageSize + 1 : 5);
      const regions = new Map(many.map((name, i) => [name, env.fake.addCluster(scopes[0]!, name, { team: `t${i % 2}` })]));
      env.fake.addCluster(scopes[1]!, "other-a");
      const { result, requests } = await counted(() => list(scopes[0]!));
      assert.deepEqual(names(result), many);
      for (const listed of result) {
        assert.equal(listed.region, regions.get(listed.name));
        assert.deepEqual(listed.labels, labelsOf({ team: `t${Number(listed.name.slice(1)) % 2}` }));
        assertEntry(listed);
      }
      assert.equal(
        requests,
        env.requestsPerListing({ clusters: many.length, matching: many.length, labelled: many.length, filtered: false }),
      );
      if (harness.pageSize) assert.ok(requests >= 3, `${requests} requests cannot have read three pages`);
      assert.deepEqual(names(await list(scopes[1]!)), ["other-a"]);
    });

    it("lists an empty scope as empty: a complete listing of nothing", async () => {
      const { result, requests } = await counted(() => list(scopes[0]!));
      assert.deepEqual(result, []);
      assert.equal(requests, env.requestsPerListing({ clusters: 0, matching: 0, labelled: 0, filtered: false }));
    });

    const pageFaults: [string, Fault, ErrorCode][] = [
      ["a 500", { status: 500, body: "{}", contentType: "application/json" }, "Unavailable"],
      ["a 429", { status: 429, body: "{}", contentType: "application/json" }, "Unavailable"],
      ["a garbage body", { garbage: true }, "Unavailable"],
    ];
    for (const [what, fault, code] of pageFaults) {
      it(`rejects the whole listing when page 2 is ${what}, and lists it whole once the cloud recovers`, {
        skip: harness.pageSize === undefined && "the cloud's list API answers a scope in one page",
      }, async () => {
        const many = numbered("p", 2 * (harness.pageSize ?? 0) + 1);
        for (const name of many) env.fake.addCluster(scopes[0]!, name);
        env.fake.failPage(scopes[0]!, 2, fault);
        await failure(list(scopes[0]!), code);
        env.fake.reset();
        for (const name of many) env.fake.addCluster(scopes[0]!, name);
        assert.deepEqual(names(await list(scopes[0]!)), many);
      });
    }

    it("refuses a next page on another host: the listing rejects and the other host hears nothing", async (t) => {
      if (!env.fake.foreignNextPage) return t.skip("the cloud's pages are not links");
      const elsewhere = await startFakeServer(() => ({ status: 200, body: "{}" }));
      try {
        env.fake.addCluster(scopes[0]!, "linked-a");
        env.fake.foreignNextPage(scopes[0]!, `${elsewhere.url}/next`);
        await failure(list(scopes[0]!), "Unavailable");
        assert.equal(elsewhere.requests.length, 0, "a credential followed a link to another host");
      } finally {
        await elsewhere.close();
      }
    });

    it("rejects a scope the cloud refuses (403) with FailedPrecondition, and lists the other scopes", async () => {
      env.fake.addCluster(scopes[0]!, "denied-a");
      env.fake.addCluster(scopes[1]!, "allowed-a");
      env.fake.denyScope(scopes[0]!);
      await failure(list(scopes[0]!), "FailedPrecondition");
      assert.deepEqual(names(await list(scopes[1]!)), ["allowed-a"]);
    });

    it("rejects a partial answer with Unavailable, and a garbage one too", async () => {
      env.fake.addCluster(scopes[0]!, "partial-a");
      env.fake.partialScope(scopes[0]!);
      await failure(list(scopes[0]!), "Unavailable");
      env.fake.reset();
      env.fake.server.fault = { garbage: true };
      try {
        await failure(list(scopes[0]!), "Unavailable");
      } finally {
        env.fake.server.fault = undefined;
      }
    });

    it("lists only clusters that carry every pair of the account's filter, with all their labels", {
      skip: !labelled && "the cloud's clusters carry no tags or labels to filter on",
    }, async () => {
      env.fake.addCluster(scopes[0]!, "prod-a", { env: "prod", team: "a" });
      env.fake.addCluster(scopes[0]!, "prod-b", { env: "prod", team: "b" });
      env.fake.addCluster(scopes[0]!, "dev-a", { env: "dev", team: "a" });
      env.fake.addCluster(scopes[0]!, "bare-a");
      const prod = await list(scopes[0]!, filtered({ env: "prod" }));
      assert.deepEqual(names(prod), ["prod-a", "prod-b"]);
      assert.deepEqual(prod.find((c) => c.name === "prod-a")?.labels, { env: "prod", team: "a" });
      const { result, requests } = await counted(() => list(scopes[0]!, filtered({ env: "prod", team: "a" })));
      assert.deepEqual(names(result), ["prod-a"]);
      assert.equal(requests, env.requestsPerListing({ clusters: 4, matching: 1, labelled: 3, filtered: true }));
      assert.deepEqual(await list(scopes[0]!, filtered({ env: "staging" })), []);
    });

    it("sees clusters created, deleted and relabelled in the cloud at the next listing", async () => {
      env.fake.addCluster(scopes[0]!, "old-a", { env: "dev" });
      env.fake.addCluster(scopes[0]!, "kept-a", { env: "dev" });
      assert.deepEqual(names(await list(scopes[0]!)), ["kept-a", "old-a"]);
      env.fake.removeCluster(scopes[0]!, "old-a");
      env.fake.addCluster(scopes[0]!, "kept-a", { env: "prod" });
      env.fake.addCluster(scopes[0]!, "new-a");
      const next = await list(scopes[0]!);
      assert.deepEqual(names(next), ["kept-a", "new-a"]);
      assert.deepEqual(next.find((c) => c.name === "kept-a")?.labels, labelsOf({ env: "prod" }));
    });

    it("looks up one cluster: found with its labels, undefined when unknown or outside the filter", async () => {
      const region = env.fake.addCluster(scopes[1]!, "look-a", { env: "prod" });
      const { result: found, requests } = await counted(() => env.newLister().lookup(env.account, "look-a", region, never()));
      assert.ok(requests <= env.maxRequestsPerLookup, `a lookup cost ${requests} requests`);
      assert.ok(found, "the cluster is found");
      assert.equal(found.name, "look-a");
      assert.equal(found.region, region);
      assert.deepEqual(found.labels, labelsOf({ env: "prod" }));
      assertEntry(found);
      const missing = await counted(() => env.newLister().lookup(env.account, "look-b", region, never()));
      assert.equal(missing.result, undefined);
      assert.ok(missing.requests <= env.maxRequestsPerLookup, `a lookup of an unknown cluster cost ${missing.requests} requests`);
      if (!labelled) return;
      assert.equal(await env.newLister().lookup(filtered({ env: "dev" }), "look-a", region, never()), undefined);
      assert.equal((await env.newLister().lookup(filtered({ env: "prod" }), "look-a", region, never()))?.name, "look-a");
    });

    it("rejects a lookup the cloud fails or refuses, rather than answer 'no such cluster'", async () => {
      const region = env.fake.addCluster(scopes[0]!, "look-a");
      for (const [status, code] of [
        [500, "Unavailable"],
        [403, "FailedPrecondition"],
      ] as const) {
        env.fake.server.fault = { status, body: "{}", contentType: "application/json" };
        try {
          await failure(env.newLister().lookup(env.account, "look-a", region, never()), code);
        } finally {
          env.fake.server.fault = undefined;
        }
      }
    });

    it("fails listing and lookup with FailedPrecondition when the account's credentials cannot be resolved", async () => {
      const region = env.fake.addCluster(scopes[0]!, "broken-a");
      await failure(env.newLister().listScope(env.brokenAccount, scopes[0]!, never()), "FailedPrecondition");
      await failure(env.newLister().lookup(env.brokenAccount, "broken-a", region, never()), "FailedPrecondition");
    });

    it("signs by the injected clock: after the clock moved, the cloud still accepts its requests", async () => {
      env.fake.addCluster(scopes[0]!, "clock-a");
      env.clock.advance(10 * 60_000);
      assert.deepEqual(names(await list(scopes[0]!)), ["clock-a"]);
    });

    it("stops waiting when the caller's signal aborts while the cloud holds the request: DeadlineExceeded", async () => {
      const region = env.fake.addCluster(scopes[0]!, "held-a");
      const calls: [string, (lister: ClusterLister<A>, signal: AbortSignal) => Promise<unknown>][] = [
        ["listScope", (lister, signal) => lister.listScope(env.account, scopes[0]!, signal)],
        ["lookup", (lister, signal) => lister.lookup(env.account, "held-a", region, signal)],
      ];
      for (const [operation, call] of calls) {
        const lister = env.newLister();
        await call(lister, never()); // credentials fetched, so that the held request is the cloud's API
        env.fake.server.fault = { hold: true };
        try {
          const caller = new AbortController();
          const arrived = env.fake.server.requests.length;
          let settled = false;
          const failed = failure(call(lister, caller.signal), "DeadlineExceeded").finally(() => (settled = true));
          failed.catch(() => {}); // awaited below, unless the lister failed to settle in time
          await env.fake.server.received(arrived + 1);
          caller.abort(deadlineReason());
          assert.ok(await settlesWithin(100, () => settled), `${operation} kept waiting past its caller's deadline`);
          await failed;
        } finally {
          env.fake.server.fault = undefined;
          await env.fake.server.release();
        }
      }
    });
  });
}

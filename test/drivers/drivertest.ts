import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deadlineReason } from "../../src/common/deadline.js";
import type { ClusterAccess, ProviderDrivers } from "../../src/drivers/driver.js";
import type { RegisteredCluster } from "../../src/core/registered-cluster.js";
import type { ServiceError, ErrorCode } from "../../src/errors/service-error.js";
import { SecretScrubber, type SecretShapes } from "../../src/logging/secret-scrubber.js";
import type { Fault, FakeServer } from "../fakes/fake-http-server.js";
import type { Verdict } from "../fakes/verdict.js";
import type { FakeClock } from "../support/fake-clock.js";
import { settlesWithin } from "../support/event-loop.js";
import { serviceFailure } from "../support/service-failure.js";

/**
 * What a cloud's harness provides to the conformance suite: its drivers built
 * against a local fake cloud that verifies for real, both on one fake clock, and
 * what the cloud's rules say.
 */
export interface HarnessEnv<C extends RegisteredCluster> {
  /** The clock the drivers and the fakes' verifiers share; the suite moves it, and measures lifetimes by it. */
  clock: FakeClock;
  /** The provider module under test: what it declares of its secrets is checked against what its drivers mint. */
  provider: { readonly secretShapes: SecretShapes };
  /** Builds fresh drivers against the fakes, on `clock`, so no cached credential hides an upstream call. */
  newDrivers(): Required<ProviderDrivers<C>>;
  /** Two clusters the fake cloud knows. */
  clusterA: C;
  clusterB: C;
  /** A cluster the fake cloud does not know. */
  missingCluster: C;
  /** A cluster whose credentials reference a secret that cannot be resolved. */
  unresolvableCluster: C;
  /**
   * A second cloud identity for the same clusters: `credentials` names another entry
   * of the provider (an assumed role, an impersonated service account, another
   * application, another key pair); `own` and `other` are the identities the fake
   * reports for tokens signed as clusterA's own credentials and as that entry.
   */
  identities: { own: string; other: string; credentials: string };
  /** The fake cloud's verdict, by `clock`, on a token presented to `cluster`. */
  verify(token: string, cluster: C): Verdict;
  /** Whether the cloud binds a token to the cluster it was minted for. */
  bindsTokensToCluster: boolean;
  /** The token lifetime the cloud's rules allow, in ms from `clock`'s now. */
  lifetimeMs: { min: number; max: number };
  /** What describing clusterA must return. */
  expectedAccessA: ClusterAccess;
  /** The fake that minting calls, if minting calls the cloud at all. */
  mintUpstream?: FakeServer;
  /** The fake that describing calls. */
  describeUpstream: FakeServer;
  /** Strings that must never appear in an error: secrets and keys of the harness. */
  secrets: string[];
  close(): Promise<void>;
}

/** A cloud's harness: a name and how to set up its fakes and drivers. */
export interface Harness<C extends RegisteredCluster> {
  name: string;
  setUp(): Promise<HarnessEnv<C>>;
}

/** Each upstream failure and the portable code every driver must map it to. */
const faults: [string, Fault, ErrorCode][] = [
  ["HTTP 401", { status: 401, body: "{}", contentType: "application/json" }, "FailedPrecondition"],
  ["HTTP 403", { status: 403, body: "{}", contentType: "application/json" }, "FailedPrecondition"],
  ["HTTP 404", { status: 404, body: "{}", contentType: "application/json" }, "NotFound"],
  ["HTTP 429", { status: 429, body: "{}", contentType: "application/json" }, "Unavailable"],
  ["HTTP 500", { status: 500, body: "{}", contentType: "application/json" }, "Unavailable"],
  ["HTTP 503", { status: 503, body: "" }, "Unavailable"],
  ["a garbage body", { garbage: true }, "Unavailable"],
];

/** A signal of a caller without a deadline: the drivers' own upstream timeout is what bounds a call. */
const noDeadline = () => new AbortController().signal;

/**
 * The conformance suite every cloud driver must pass, modelled on Go CDK's
 * drivertest. A new cloud is done when its harness passes this. It reads no wall
 * clock and sleeps nowhere: lifetimes are measured on the harness's fake clock, and
 * a missed deadline is a request the fake holds while the test aborts the caller.
 */
export function runConformance<C extends RegisteredCluster>(harness: Harness<C>): void {
  describe(`${harness.name} driver conformance`, () => {
    let env: HarnessEnv<C>;
    before(async () => {
      env = await harness.setUp();
    });
    after(() => env.close());

    const noSecretIn = (err: ServiceError) => {
      const text = `${err.message} ${JSON.stringify(err.metadata)}`;
      for (const secret of env.secrets) assert.ok(!text.includes(secret), `the error leaks a secret: ${err.message}`);
    };
    const assertLifetime = (expiresAt: Date) => {
      const lifetime = expiresAt.getTime() - env.clock.now();
      assert.ok(
        lifetime >= env.lifetimeMs.min && lifetime <= env.lifetimeMs.max,
        `lifetime ${lifetime} ms outside [${env.lifetimeMs.min}, ${env.lifetimeMs.max}]`,
      );
    };

    it("mints a token the cloud accepts, expiring in the future within the cloud's rules", async () => {
      const { token, expiresAt } = await env.newDrivers().token.mintToken(env.clusterA, noDeadline());
      const verdict = env.verify(token, env.clusterA);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      assertLifetime(expiresAt);
    });

    it("mints as each identity a cluster is given: two credentials entries, two tokens the cloud verifies as their own", async () => {
      const drivers = env.newDrivers();
      const asOther = { ...env.clusterA, credentials: env.identities.credentials };
      const own = await drivers.token.mintToken(env.clusterA, noDeadline());
      const other = await drivers.token.mintToken(asOther, noDeadline());
      // Again, on the same drivers: each identity's cached credential source stays its own.
      const ownAgain = await drivers.token.mintToken(env.clusterA, noDeadline());
      assert.notEqual(env.identities.own, env.identities.other);
      assert.deepEqual(env.verify(own.token, env.clusterA), { ok: true, identity: env.identities.own });
      assert.deepEqual(env.verify(other.token, env.clusterA), { ok: true, identity: env.identities.other });
      assert.deepEqual(env.verify(ownAgain.token, env.clusterA), { ok: true, identity: env.identities.own });
      assertLifetime(other.expiresAt);
    });

    it("signs and expires by the injected clock: minted after the clock moved, the token is valid then, for its full lifetime", async () => {
      env.clock.advance(2 * 60_000);
      const { token, expiresAt } = await env.newDrivers().token.mintToken(env.clusterA, noDeadline());
      const verdict = env.verify(token, env.clusterA);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      assertLifetime(expiresAt);
    });

    it("binds a token to its cluster where the cloud does", async () => {
      const { token } = await env.newDrivers().token.mintToken(env.clusterA, noDeadline());
      assert.equal(env.verify(token, env.clusterB).ok, !env.bindsTokensToCluster);
    });

    it("mints tokens of a shape its provider declares, so that no log line can carry one", async () => {
      const { token } = await env.newDrivers().token.mintToken(env.clusterA, noDeadline());
      // The provider's own shapes alone, without the generic ones: a cloud must declare what its tokens look like.
      assert.equal(new SecretScrubber([env.provider.secretShapes]).scrub(`token ${token} end`), "token [REDACTED] end");
    });

    it("describes a cluster: its https server and PEM CA", async () => {
      const access = await env.newDrivers().describer.describeCluster(env.clusterA, noDeadline());
      assert.deepEqual(access, env.expectedAccessA);
      assert.match(access.server, /^https:\/\//);
      assert.match(Buffer.from(access.certificateAuthorityData, "base64").toString(), /-----BEGIN CERTIFICATE-----/);
    });

    it("answers NOT_FOUND for a cluster the cloud does not know", async () => {
      const err = await serviceFailure(env.newDrivers().describer.describeCluster(env.missingCluster, noDeadline()));
      assert.equal(err.code, "NotFound");
      noSecretIn(err);
    });

    it("answers FAILED_PRECONDITION when its credentials cannot be resolved", async () => {
      for (const call of [
        () => env.newDrivers().token.mintToken(env.unresolvableCluster, noDeadline()),
        () => env.newDrivers().describer.describeCluster(env.unresolvableCluster, noDeadline()),
      ]) {
        const err = await serviceFailure(call());
        assert.equal(err.code, "FailedPrecondition");
        noSecretIn(err);
      }
    });

    const targets = (): [string, FakeServer | undefined, (d: Required<ProviderDrivers<C>>, signal: AbortSignal) => Promise<unknown>][] => [
      ["mint", env.mintUpstream, (d, signal) => d.token.mintToken(env.clusterA, signal)],
      ["describe", env.describeUpstream, (d, signal) => d.describer.describeCluster(env.clusterA, signal)],
    ];

    for (const [what, fault, code] of faults) {
      it(`maps ${what} from the cloud to ${code}`, async () => {
        for (const [operation, upstream, call] of targets()) {
          if (!upstream) continue;
          upstream.fault = fault;
          try {
            const err = await serviceFailure(call(env.newDrivers(), noDeadline()));
            assert.equal(err.code, code, `${operation}: ${err.code} ${err.reason}: ${err.message}`);
            noSecretIn(err);
          } finally {
            upstream.fault = undefined;
          }
        }
      });
    }

    it("stops waiting when the caller's deadline passes while the cloud has not answered: DeadlineExceeded", async () => {
      for (const [operation, upstream, call] of targets()) {
        if (!upstream) continue;
        upstream.fault = { hold: true };
        try {
          const caller = new AbortController();
          const arrived = upstream.requests.length;
          let settled = false;
          const failure = serviceFailure(call(env.newDrivers(), caller.signal)).finally(() => (settled = true));
          failure.catch(() => {}); // awaited below, unless the driver failed to settle in time
          await upstream.received(arrived + 1);
          caller.abort(deadlineReason());
          assert.ok(await settlesWithin(100, () => settled), `${operation} kept waiting for the cloud past its caller's deadline`);
          const err = await failure;
          assert.equal(err.code, "DeadlineExceeded", `${operation}: ${err.code} ${err.reason}: ${err.message}`);
          noSecretIn(err);
        } finally {
          upstream.fault = undefined;
          await upstream.release();
        }
      }
    });
  });
}

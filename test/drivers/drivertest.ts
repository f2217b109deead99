import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ClusterAccess, ProviderDrivers } from "../../src/drivers/driver.js";
import type { RegisteredCluster } from "../../src/core/registered-cluster.js";
import type { ServiceError, ErrorCode } from "../../src/errors/service-error.js";
import type { Fault, FakeServer } from "../fakes/fake-http-server.js";
import type { Verdict } from "../fakes/sigv4-verifier.js";
import { serviceFailure } from "../support/service-failure.js";

/**
 * What a cloud's harness provides to the conformance suite: its drivers built
 * against a local fake cloud that verifies for real, and what the cloud's rules say.
 */
export interface HarnessEnv<C extends RegisteredCluster> {
  /** Builds fresh drivers against the fakes, so no cached credential hides an upstream call. */
  newDrivers(): Required<ProviderDrivers<C>>;
  /** Two clusters the fake cloud knows. */
  clusterA: C;
  clusterB: C;
  /** A cluster the fake cloud does not know. */
  missingCluster: C;
  /** A cluster whose credentials reference a secret that cannot be resolved. */
  unresolvableCluster: C;
  /** The fake cloud's verdict on a token presented to `cluster`. */
  verify(token: string, cluster: C): Verdict;
  /** Whether the cloud binds a token to the cluster it was minted for. */
  bindsTokensToCluster: boolean;
  /** The token lifetime the cloud's rules allow, in ms from now. */
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
  ["no answer before the caller's deadline", { delayMs: 4000 }, "DeadlineExceeded"],
];

/**
 * The conformance suite every cloud driver must pass, modelled on Go CDK's
 * drivertest. A new cloud is done when its harness passes this.
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

    it("mints a token the cloud accepts, expiring in the future within the cloud's rules", async () => {
      const { token, expiresAt } = await env.newDrivers().token.mintToken(env.clusterA, AbortSignal.timeout(20_000));
      const verdict = env.verify(token, env.clusterA);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      const lifetime = expiresAt.getTime() - Date.now();
      assert.ok(
        lifetime >= env.lifetimeMs.min && lifetime <= env.lifetimeMs.max,
        `lifetime ${lifetime} ms outside [${env.lifetimeMs.min}, ${env.lifetimeMs.max}]`,
      );
    });

    it("binds a token to its cluster where the cloud does", async () => {
      const { token } = await env.newDrivers().token.mintToken(env.clusterA, AbortSignal.timeout(20_000));
      assert.equal(env.verify(token, env.clusterB).ok, !env.bindsTokensToCluster);
    });

    it("describes a cluster: its https server and PEM CA", async () => {
      const access = await env.newDrivers().describer.describeCluster(env.clusterA, AbortSignal.timeout(20_000));
      assert.deepEqual(access, env.expectedAccessA);
      assert.match(access.server, /^https:\/\//);
      assert.match(Buffer.from(access.certificateAuthorityData, "base64").toString(), /-----BEGIN CERTIFICATE-----/);
    });

    it("answers NOT_FOUND for a cluster the cloud does not know", async () => {
      const err = await serviceFailure(env.newDrivers().describer.describeCluster(env.missingCluster, AbortSignal.timeout(20_000)));
      assert.equal(err.code, "NotFound");
      noSecretIn(err);
    });

    it("answers FAILED_PRECONDITION when its credentials cannot be resolved", async () => {
      for (const call of [
        () => env.newDrivers().token.mintToken(env.unresolvableCluster, AbortSignal.timeout(20_000)),
        () => env.newDrivers().describer.describeCluster(env.unresolvableCluster, AbortSignal.timeout(20_000)),
      ]) {
        const err = await serviceFailure(call());
        assert.equal(err.code, "FailedPrecondition");
        noSecretIn(err);
      }
    });

    for (const [what, fault, code] of faults) {
      const signal = () => AbortSignal.timeout("delayMs" in fault ? 300 : 30_000);
      it(`maps ${what} from the cloud to ${code}`, async () => {
        const targets: [string, FakeServer | undefined, (d: Required<ProviderDrivers<C>>) => Promise<unknown>][] = [
          ["mint", env.mintUpstream, (d) => d.token.mintToken(env.clusterA, signal())],
          ["describe", env.describeUpstream, (d) => d.describer.describeCluster(env.clusterA, signal())],
        ];
        for (const [operation, upstream, call] of targets) {
          if (!upstream) continue;
          upstream.fault = fault;
          try {
            const started = Date.now();
            const err = await serviceFailure(call(env.newDrivers()));
            assert.equal(err.code, code, `${operation}: ${err.code} ${err.reason}: ${err.message}`);
            if ("delayMs" in fault) assert.ok(Date.now() - started < 2000, `${operation} waited past the deadline`);
            noSecretIn(err);
          } finally {
            upstream.fault = undefined;
          }
        }
      });
    }
  });
}

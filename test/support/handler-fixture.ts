import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  GenerateTokenRequestSchema,
  GetKubeconfigRequestSchema,
  type KubeconfigMode,
} from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { type CallContext, unwrapFailure } from "../../src/core/call-context.js";
import { ClusterAccessResolver } from "../../src/core/cluster-access-resolver.js";
import { ClusterRegistry } from "../../src/core/cluster-registry.js";
import { createClusterTokenHandlers } from "../../src/core/cluster-token-handlers.js";
import { type ErrorCode, ServiceError } from "../../src/errors/service-error.js";
import { clusterPlacement } from "../../src/providers.js";
import { InMemoryTokenDriver } from "./in-memory-driver.js";
import { testConfig } from "./test-config.js";

/*
 * The core's handlers called directly (the first of connect-es's three test levels),
 * over the test config's clusters and the in-memory driver.
 */

/** The time the in-memory driver mints at. */
export const now = new Date("2026-01-01T00:00:00Z");
/** A fresh context per call. */
export const ctx = (principal = "anonymous"): CallContext => ({
  transport: "grpc",
  requestId: "test",
  signal: new AbortController().signal,
  deadline: Date.now() + 30_000,
  principal: { name: principal, kind: "anonymous" },
});

/** Exec settings with a public URL. */
export const exec = { publicUrl: "https://cluster-token.example.com", command: ["cluster-token"] };

export type Handlers = ReturnType<typeof createClusterTokenHandlers>;
type Unwrapped = { [K in keyof Handlers]: (...args: Parameters<Handlers[K]>) => Promise<Awaited<ReturnType<Handlers[K]>>["response"]> };

/** The handlers as a caller sees them: the response alone, or the error itself rather than the failure with its facts. */
export function responsesOf(handlers: Handlers): Unwrapped {
  const unwrap =
    <A extends unknown[], R>(handler: (...args: A) => Promise<{ response: R }>) =>
    (...args: A) =>
      handler(...args).then(
        (outcome) => outcome.response,
        (err: unknown) => {
          throw unwrapFailure(err).error;
        },
      );
  return {
    generateToken: unwrap(handlers.generateToken),
    getKubeconfig: unwrap(handlers.getKubeconfig),
    listClusters: unwrap(handlers.listClusters),
  };
}

/** The handlers over the test config's clusters, as a caller sees them, and their driver; every call allowed unless `policy` says otherwise. */
export function setUp(execSettings: { publicUrl?: string; command: string[] } = exec, policy = AccessPolicy.allowAll()) {
  const { driver, raw } = setUpRaw(execSettings, policy);
  return { driver, handlers: responsesOf(raw) };
}

/** The handlers as the pipeline sees them: outcomes and failures with their audit facts. */
export function setUpRaw(execSettings: { publicUrl?: string; command: string[] } = exec, policy = AccessPolicy.allowAll()) {
  const driver = new InMemoryTokenDriver(() => now);
  const drivers = { aws: { token: driver } };
  const raw = createClusterTokenHandlers({
    placement: clusterPlacement,
    registry: ClusterRegistry.fromConfig(testConfig().clusters),
    drivers,
    access: new ClusterAccessResolver(drivers, { ttlMs: 0 }),
    exec: execSettings,
    policy,
  });
  return { driver, raw };
}

/** Asserts that `promise` rejects with a ServiceError of `code` and `reason`, and returns it. */
export async function rejects(promise: Promise<unknown>, code: ErrorCode, reason: string): Promise<ServiceError> {
  const err = await promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceError);
  assert.equal(err.code, code);
  assert.equal(err.reason, reason);
  return err;
}

export const tokenRequest = (init: { clusterId?: string; apiVersion?: string }) => create(GenerateTokenRequestSchema, init);
export const kubeconfigRequest = (init: { clusterId?: string; mode?: KubeconfigMode; identity?: string }) =>
  create(GetKubeconfigRequestSchema, init);

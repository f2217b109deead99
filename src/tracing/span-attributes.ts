import type { DescMethodUnary } from "@bufbuild/protobuf";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { TransportCall } from "../core/call-context.js";
import type { ErrorCode } from "../errors/service-error.js";
import type { CallResult } from "./tracing.js";

/** Attribute names of the OpenTelemetry semantic conventions for RPC spans and errors. */
export const semconv = {
  rpcSystem: "rpc.system",
  rpcService: "rpc.service",
  rpcMethod: "rpc.method",
  rpcGrpcStatusCode: "rpc.grpc.status_code",
  rpcConnectErrorCode: "rpc.connect_rpc.error_code",
  errorType: "error.type",
} as const;

/** This service's own attributes, under its own namespace, as the conventions ask of names they do not define. */
export const ours = {
  transport: "cluster_token.transport",
  requestId: "cluster_token.request_id",
  principal: "cluster_token.principal",
  clusterId: "cluster_token.cluster_id",
  provider: "cluster_token.provider",
  kubeconfigMode: "cluster_token.kubeconfig_mode",
  tokenCacheHit: "cluster_token.token_cache.hit",
  upstreamOperation: "cluster_token.upstream.operation",
  upstreamOutcome: "cluster_token.upstream.outcome",
} as const;

/** A span attribute value, as this service sets them. */
export type AttributeValue = string | number | boolean;

/** `rpc.system`: gRPC, gRPC-Web (the same codes and semantics) or Connect. */
export type RpcSystem = "grpc" | "connect_rpc";

/**
 * The codes the RPC conventions make a server span's status ERROR: a fault of the
 * server, not of the caller (UNKNOWN and DATA_LOSS, the others they name, are never
 * answered here). A PERMISSION_DENIED or NOT_FOUND leaves the status unset.
 */
const serverFaults: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["DeadlineExceeded", "Unimplemented", "Internal", "Unavailable"]);

/**
 * The RPC system of a call: the Connect listener also serves gRPC-Web, which is
 * gRPC on the wire; its content type says which one a call spoke.
 */
export function rpcSystemOf(call: TransportCall): RpcSystem {
  return call.transport === "grpc" || call.headers.get("content-type")?.startsWith("application/grpc-web") ? "grpc" : "connect_rpc";
}

/** The name of a call's span, `{rpc.service}/{rpc.method}` as the conventions say. */
export function callSpanName(method: DescMethodUnary): string {
  return `${method.parent.typeName}/${method.name}`;
}

/** What is known of a call when its span starts (so the sampler sees it too). */
export function callStartAttributes(method: DescMethodUnary, call: TransportCall, system: RpcSystem): Record<string, AttributeValue> {
  return {
    [semconv.rpcSystem]: system,
    [semconv.rpcService]: method.parent.typeName,
    [semconv.rpcMethod]: method.name,
    [ours.transport]: call.transport,
    [ours.requestId]: call.requestId,
  };
}

/** What is known once the call is over: who called, about what, and how it ended. Never a token, a key or a secret. */
export function callEndAttributes(result: CallResult, system: RpcSystem): Record<string, AttributeValue> {
  const { principal, facts, failure } = result;
  const attributes: Record<string, AttributeValue> = {};
  if (principal !== undefined) attributes[ours.principal] = principal;
  if (facts.clusterId !== undefined) attributes[ours.clusterId] = facts.clusterId;
  if (facts.provider !== undefined) attributes[ours.provider] = facts.provider;
  if (facts.kubeconfigMode !== undefined) attributes[ours.kubeconfigMode] = facts.kubeconfigMode;
  if (system === "grpc") attributes[semconv.rpcGrpcStatusCode] = failure ? failure.status.connect : 0;
  if (failure) {
    if (system === "connect_rpc") attributes[semconv.rpcConnectErrorCode] = codeToString(failure.status.connect);
    attributes[semconv.errorType] = failure.error.reason;
  }
  return attributes;
}

/** True when a call that failed so is the server's fault: its span's status is then ERROR. */
export function isServerFault(result: CallResult): boolean {
  return result.failure !== undefined && serverFaults.has(result.failure.error.code);
}

/** The attributes of an upstream call's span: the same provider, operation and outcome as its metric. */
export function upstreamAttributes(provider: string, operation: string, outcome: string): Record<string, AttributeValue> {
  return { [ours.provider]: provider, [ours.upstreamOperation]: operation, [ours.upstreamOutcome]: outcome };
}

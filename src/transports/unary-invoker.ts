import type { DescMessage, DescMethodUnary, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { AuditEntry, AuditLog } from "../audit/audit-log.js";
import type { Authenticator } from "../auth/authenticator.js";
import type { Principal } from "../auth/principal.js";
import type { RateLimiter } from "../auth/rate-limiter.js";
import type { CallContext, TransportCall } from "../core/call-context.js";
import type { ServiceHandlers } from "../core/service-handlers.js";
import { isServiceError, ServiceError } from "../errors/service-error.js";
import { boundedSignal } from "../common/deadline.js";
import { errorSummary } from "../logging/logger.js";
import { toConnectError } from "./error-status.js";

/**
 * Calls one RPC of the core for any transport: authenticates the caller, applies its
 * rate limit, runs the handler, writes the audit line, logs one line per call, and
 * turns failures into the `ConnectError` both transports send. Transports only
 * translate their wire objects to and from this.
 */
export type UnaryInvoker = <I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  request: MessageShape<I> | UndecodableRequest,
  call: TransportCall,
) => Promise<MessageInitShape<O>>;

/**
 * Stands in for a request body that could not be decoded, so that a transport whose
 * library decodes before calling us (grpc-js) still answers INVALID_ARGUMENT through
 * the same path as every other error.
 */
export class UndecodableRequest {
  /**
   * @param cause the decoding failure, for local debugging only.
   * @param problem what is wrong, for the caller; it must echo nothing of the request.
   */
  constructor(
    readonly cause: unknown,
    readonly problem?: string,
  ) {}
}

/** What the invoker needs besides the handlers. */
export interface InvokerDeps {
  logger: Logger;
  authenticator: Authenticator;
  /** Per principal; absent means unlimited. */
  rateLimiter?: RateLimiter;
  audit: AuditLog;
  /** The longest any call may take, whatever deadline the caller set (`limits.maxCallSeconds`). */
  maxCallMs: number;
}

/** RPCs whose every outcome is audited; other RPCs are audited only when a call is denied. */
const issuingRpcs = new Set(["GenerateToken", "GetKubeconfig"]);
const denialCodes = new Set([Code.Unauthenticated, Code.PermissionDenied, Code.ResourceExhausted]);

/** "PermissionDenied" → "PERMISSION_DENIED": the gRPC spelling, used in every log and audit line. */
export function codeName(code: Code | 0): string {
  return code === 0 ? "OK" : Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Creates the {@link UnaryInvoker} of `handlers`, the implementation of `service`. */
export function createUnaryInvoker<S extends DescService & { method: Record<string, DescMethodUnary> }>(
  _service: S,
  handlers: ServiceHandlers<S>,
  { logger, authenticator, rateLimiter, audit, maxCallMs }: InvokerDeps,
): UnaryInvoker {
  const table = handlers as unknown as Record<string, (request: unknown, context: CallContext) => Promise<never>>;
  return async (method, request, call) => {
    const started = performance.now();
    const serviceDeadline = Date.now() + maxCallMs;
    const deadline = call.deadline !== undefined && call.deadline < serviceDeadline ? call.deadline : serviceDeadline;
    const bounded = boundedSignal(
      call.signal,
      deadline,
      deadline === serviceDeadline ? `the service's maximum call time (${maxCallMs} ms) passed` : undefined,
    );
    let principal: Principal | undefined;
    let context: CallContext | undefined;
    const auditEntry = (code: Code | 0, outcome: AuditEntry["outcome"]): AuditEntry => {
      const facts = context?.audit ?? {};
      return {
        principal: principal?.name ?? "(unauthenticated)",
        transport: call.transport,
        rpc: method.name,
        requestId: call.requestId,
        outcome,
        code: codeName(code),
        ...(facts.clusterId !== undefined ? { clusterId: facts.clusterId } : {}),
        ...(facts.provider !== undefined ? { provider: facts.provider } : {}),
        ...(facts.kubeconfigMode !== undefined ? { kubeconfigMode: facts.kubeconfigMode } : {}),
        ...(outcome === "issued" && facts.tokenExpiry
          ? { tokenExpiry: facts.tokenExpiry.toISOString(), tokenFingerprint: facts.tokenFingerprint }
          : {}),
      };
    };
    const logFields = () => ({
      rpc: method.name,
      transport: call.transport,
      requestId: call.requestId,
      principal: principal?.name,
      ms: Math.round((performance.now() - started) * 100) / 100,
    });
    try {
      principal = authenticator.authenticate(call.credentials);
      const limited = rateLimiter?.take(principal.name);
      if (limited && !limited.ok) {
        throw new ServiceError({
          reason: "RATE_LIMITED",
          message: `${principal.name} is over its rate limit; retry after ${limited.retryAfterMs} ms`,
          metadata: { retry_after_ms: String(limited.retryAfterMs) },
        });
      }
      if (request instanceof UndecodableRequest) {
        throw new ServiceError({
          reason: "MALFORMED_REQUEST",
          message: `the request is not a valid ${method.input.typeName} message${request.problem ? `: ${request.problem}` : ""}`,
          cause: request.cause,
        });
      }
      context = { transport: call.transport, requestId: call.requestId, signal: bounded.signal, deadline, principal, audit: {} };
      const handler = table[method.localName];
      if (!handler) throw new Error(`no handler for ${method.name}`);
      const response = await handler(request, context);
      // Fails closed: when the audit line cannot be written, the response never leaves.
      if (issuingRpcs.has(method.name)) audit.record(auditEntry(0, "issued"));
      logger.info({ ...logFields(), code: codeName(0) }, "rpc");
      return response;
    } catch (err) {
      const connectError: ConnectError = toConnectError(err);
      if (issuingRpcs.has(method.name) || denialCodes.has(connectError.code)) {
        try {
          audit.record(auditEntry(connectError.code, denialCodes.has(connectError.code) ? "denied" : "failed"));
        } catch {
          // The audit sink is down; this call fails anyway, and its failure is logged below.
        }
      }
      const level = isServiceError(err) && err.code !== "Internal" ? "info" : "error";
      logger[level](
        {
          ...logFields(),
          code: codeName(connectError.code),
          reason: isServiceError(err) ? err.reason : "INTERNAL",
          error: errorSummary(err),
        },
        "rpc",
      );
      throw connectError;
    } finally {
      bounded.dispose();
    }
  };
}

import type { AuditEntry, AuditLog } from "../audit/audit-log.js";
import { type AuditFacts, CallFailure } from "../core/call-context.js";
import { okStatus } from "../errors/status-codes.js";
import { auditCommitSpanName } from "../tracing/observer-spans.js";
import type { Tracing } from "../tracing/tracing.js";
import { type ClassifiedFailure, classifyFailure } from "./classify-failure.js";
import type { Invocation } from "./invocation.js";
import { defineLink, type Link } from "./link.js";

/** RPCs whose every outcome is audited; other RPCs are audited only when a call is denied. */
const issuingRpcs = new Set(["GenerateToken", "GetKubeconfig"]);
/** Refusals that are audited on every RPC. */
const denials = new Set(["Unauthenticated", "PermissionDenied", "ResourceExhausted"]);

/** The audit entry of a call; built field by field, in one order, so that every entry has one of a few shapes. */
function entry(invocation: Invocation, facts: AuditFacts, outcome: AuditEntry["outcome"], failure?: ClassifiedFailure): AuditEntry {
  const e: AuditEntry = {
    // The principal of a call that authentication refused is nobody's.
    principal: invocation.principal?.name ?? "(unauthenticated)",
    transport: invocation.call.transport,
    rpc: invocation.method.name,
    requestId: invocation.call.requestId,
    // Undefined (and not written) with tracing off.
    traceId: invocation.trace?.traceId,
    spanId: invocation.trace?.spanId,
    outcome,
    code: failure ? failure.status.grpc : okStatus.grpc,
  };
  if (failure) e.reason = failure.error.reason;
  if (facts.clusterId !== undefined) e.clusterId = facts.clusterId;
  if (facts.provider !== undefined) e.provider = facts.provider;
  if (facts.identity !== undefined) e.identity = facts.identity;
  if (facts.execIdentity !== undefined) e.execIdentity = facts.execIdentity;
  if (facts.kubeconfigMode !== undefined) e.kubeconfigMode = facts.kubeconfigMode;
  if (outcome === "issued" && facts.tokenExpiry) {
    e.tokenExpiry = facts.tokenExpiry.toISOString();
    if (facts.tokenFingerprint !== undefined) e.tokenFingerprint = facts.tokenFingerprint;
  }
  return e;
}

/**
 * Writes the audit line of every issuing call and every denial. It fails closed:
 * an issuance waits for its line to be written, and when it cannot be, the call fails
 * with UNAVAILABLE (`AUDIT_FAILED`) and its response never leaves. A `failed` line
 * with the same request id then follows, so that a line written too late to count is
 * never the last word. Denials and failures are recorded without waiting. With
 * `tracing`, the wait for an issuance's line is a child span of the call's
 * (`audit commit`), and every line carries the call's trace and span ids.
 */
export function audit(log: AuditLog, tracing?: Tracing): Link {
  return defineLink({
    name: "audit",
    wrap: (next) => async (invocation) => {
      const issuing = issuingRpcs.has(invocation.method.name);
      let outcome;
      try {
        outcome = await next(invocation);
      } catch (err) {
        const failure = classifyFailure(err);
        const denied = denials.has(failure.error.code);
        if (issuing || denied) log.note(entry(invocation, failure.facts, denied ? "denied" : "failed", failure));
        throw failure;
      }
      if (issuing) {
        const started = performance.now();
        try {
          await log.record(entry(invocation, outcome.facts, "issued"));
        } catch (err) {
          const failure = classifyFailure(new CallFailure(err, outcome.facts));
          tracing?.recordChild({
            name: auditCommitSpanName,
            kind: "internal",
            startedAt: started,
            attributes: {},
            error: failure.error.reason,
          });
          log.note(entry(invocation, outcome.facts, "failed", failure));
          throw failure;
        }
        tracing?.recordChild({ name: auditCommitSpanName, kind: "internal", startedAt: started, attributes: {} });
      }
      return outcome;
    },
  });
}

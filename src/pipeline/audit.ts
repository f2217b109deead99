import type { AuditEntry, AuditLog } from "../audit/audit-log.js";
import { type AuditFacts, CallFailure, unwrapFailure } from "../core/call-context.js";
import { isServiceError } from "../errors/service-error.js";
import { type Invocation, type Link, outcomeCode } from "./invocation.js";

/** RPCs whose every outcome is audited; other RPCs are audited only when a call is denied. */
const issuingRpcs = new Set(["GenerateToken", "GetKubeconfig"]);
/** Refusals that are audited on every RPC. */
const denials = new Set(["Unauthenticated", "PermissionDenied", "ResourceExhausted"]);

function entry(invocation: Invocation, facts: AuditFacts, outcome: AuditEntry["outcome"], code: string): AuditEntry {
  return {
    principal: facts.principal ?? "(unauthenticated)",
    transport: invocation.call.transport,
    rpc: invocation.method.name,
    requestId: invocation.call.requestId,
    outcome,
    code,
    ...(facts.clusterId !== undefined ? { clusterId: facts.clusterId } : {}),
    ...(facts.provider !== undefined ? { provider: facts.provider } : {}),
    ...(facts.kubeconfigMode !== undefined ? { kubeconfigMode: facts.kubeconfigMode } : {}),
    ...(outcome === "issued" && facts.tokenExpiry
      ? { tokenExpiry: facts.tokenExpiry.toISOString(), tokenFingerprint: facts.tokenFingerprint }
      : {}),
  };
}

/**
 * Writes the audit line of every issuing call and every denial. It fails closed:
 * when the line of an issuance cannot be written, the call fails with UNAVAILABLE
 * (`AUDIT_FAILED`) and its response never leaves.
 */
export function audit(log: AuditLog): Link {
  return (next) => async (invocation) => {
    const issuing = issuingRpcs.has(invocation.method.name);
    let outcome;
    try {
      outcome = await next(invocation);
    } catch (err) {
      const { error, facts } = unwrapFailure(err);
      const denied = isServiceError(error) && denials.has(error.code);
      if (issuing || denied) {
        try {
          log.record(entry(invocation, facts, denied ? "denied" : "failed", outcomeCode(error)));
        } catch {
          // The audit sink is down; this call fails anyway, and its failure is logged by the access log.
        }
      }
      throw err;
    }
    if (issuing) {
      try {
        log.record(entry(invocation, outcome.facts, "issued", outcomeCode()));
      } catch (err) {
        throw new CallFailure(err, outcome.facts);
      }
    }
    return outcome;
  };
}

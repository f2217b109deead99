import type { Authenticator } from "../auth/authenticator.js";
import { CallFailure, unwrapFailure } from "../core/call-context.js";
import type { Link } from "./invocation.js";

/**
 * Decides who is calling, from what the transport saw presented, and adds the
 * principal to the facts of the call's outcome or failure. An unauthenticated call
 * goes no further.
 */
export function authenticate(authenticator: Authenticator): Link {
  return (next) => async (invocation) => {
    const principal = authenticator.authenticate(invocation.call.credentials);
    try {
      const outcome = await next({ ...invocation, principal });
      return { ...outcome, facts: { ...outcome.facts, principal: principal.name } };
    } catch (err) {
      const { error, facts } = unwrapFailure(err);
      throw new CallFailure(error, { ...facts, principal: principal.name });
    }
  };
}

import type { Authenticator } from "../auth/authenticator.js";
import type { Link } from "./invocation.js";

/**
 * Decides who is calling, from what the transport saw presented, and records the
 * principal on the invocation, where the access log and the audit read it. An
 * unauthenticated call goes no further. No async frame of its own: the call's
 * outcome passes through untouched.
 */
export function authenticate(authenticator: Authenticator): Link {
  return (next) => (invocation) => {
    try {
      invocation.principal = authenticator.authenticate(invocation.call.credentials);
    } catch (err) {
      return Promise.reject(err);
    }
    return next(invocation);
  };
}

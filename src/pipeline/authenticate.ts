import { type Authenticator, presentedCredentials } from "../auth/authenticator.js";
import { defineLink, type Link } from "./link.js";

/**
 * Decides who is calling, from the `authorization` header and the verified client
 * certificate, and records the principal on the invocation, where the links inside
 * it, the handler, the access log and the audit read it. An unauthenticated call
 * goes no further. No async frame of its own: the call's outcome passes through
 * untouched.
 */
export function authenticate(authenticator: Authenticator): Link {
  return defineLink({
    name: "authenticate",
    establishes: ["principal"],
    wrap: (next) => (invocation) => {
      const { headers, peerCertificate } = invocation.call;
      invocation.principal = authenticator.authenticate(presentedCredentials(headers.get("authorization"), peerCertificate));
      return next(invocation);
    },
  });
}

import type { PeerCertificate } from "node:tls";
import type { ErrorReason } from "../errors/error-reasons.js";
import { ServiceError } from "../errors/service-error.js";
import { ApiKeyVerifier } from "./api-keys.js";
import { principalFromCertificate } from "./certificate-principal.js";
import { anonymous, keyPrincipal, type Principal } from "./principal.js";

/** What a caller presented, as transports extract it. Transports pass only certificates the TLS layer verified. */
export interface PresentedCredentials {
  /** The `authorization` header or metadata, as sent. */
  authorization?: string;
  /** The client certificate, verified against the configured client CA. */
  peerCertificate?: Pick<PeerCertificate, "subjectaltname" | "subject">;
}

/**
 * The credentials of a call, with only the keys that were presented. Built field by
 * field, not with conditional spreads, which V8 builds slowly, on every call.
 */
export function presentedCredentials(
  authorization: string | undefined,
  peerCertificate: PresentedCredentials["peerCertificate"] | undefined,
): PresentedCredentials {
  const credentials: { authorization?: string; peerCertificate?: NonNullable<PresentedCredentials["peerCertificate"]> } = {};
  if (authorization !== undefined) credentials.authorization = authorization;
  if (peerCertificate) credentials.peerCertificate = peerCertificate;
  return credentials;
}

function unauthenticated(reason: ErrorReason, message: string): ServiceError {
  return new ServiceError({ reason, message });
}

/**
 * Decides who a caller is, the same way for both transports. An API key in
 * `authorization: Bearer <key>`, when presented, must be valid and names the
 * principal; otherwise a verified client certificate does. A caller with neither is
 * UNAUTHENTICATED. Messages never echo what was presented.
 */
export class Authenticator {
  private constructor(private readonly keys: ApiKeyVerifier | "anonymous") {}

  /** Everyone is {@link anonymous}: only for `insecurePlaintext` development. */
  static none(): Authenticator {
    return new Authenticator("anonymous");
  }

  /** Authenticates with the configured API keys and any verified client certificate. */
  static withKeys(keys: readonly { name: string; sha256: string }[]): Authenticator {
    return new Authenticator(new ApiKeyVerifier(keys));
  }

  authenticate({ authorization, peerCertificate }: PresentedCredentials): Principal {
    if (this.keys === "anonymous") return anonymous;
    if (authorization !== undefined) {
      const key = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization)?.[1];
      if (!key) throw unauthenticated("MALFORMED_AUTHORIZATION", 'the authorization header must be "Bearer <API key>"');
      const name = this.keys.verify(key);
      if (!name) throw unauthenticated("INVALID_API_KEY", "the API key is not valid");
      return keyPrincipal(name);
    }
    if (peerCertificate) {
      const identity = principalFromCertificate(peerCertificate);
      if (!identity)
        throw unauthenticated(
          "CERTIFICATE_WITHOUT_IDENTITY",
          "the client certificate has no SPIFFE ID, DNS SAN or CN to identify the caller",
        );
      if ("problem" in identity) throw unauthenticated("CERTIFICATE_IDENTITY_INVALID", identity.problem);
      return identity.principal;
    }
    throw unauthenticated("CREDENTIALS_MISSING", "this service requires a client certificate or an API key (authorization: Bearer <key>)");
  }
}

import { ServiceError } from "../../errors/service-error.js";
import type { ClusterOf, MintedToken, TokenDriver } from "../driver.js";
import { raceAbort, type UpstreamCall } from "../upstream-error.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { gcpServiceError } from "./gcp-errors.js";

/** The credential source a cluster names; config validation makes a miss impossible, but it is still an error, not a crash. */
export function gcpSourceOf(sources: ReadonlyMap<string, GcpCredentialSource>, cluster: ClusterOf<"gcp">): GcpCredentialSource {
  const source = sources.get(cluster.credentials);
  if (source) return source;
  throw new ServiceError({
    code: "FailedPrecondition",
    reason: "CREDENTIALS_NOT_CONFIGURED",
    message: `cluster ${cluster.id} names credentials "${cluster.credentials}", which are not configured for gcp`,
    metadata: { cluster_id: cluster.id, provider: "gcp" },
  });
}

/**
 * The GKE token driver: an OAuth2 access token with the scopes gke-gcloud-auth-plugin
 * uses, and its real expiry. GKE authenticates the caller's identity, so the token is
 * not bound to one cluster; the service's per-caller authorization is what limits it.
 */
export class GkeTokenDriver implements TokenDriver<ClusterOf<"gcp">> {
  constructor(private readonly sources: ReadonlyMap<string, GcpCredentialSource>) {}

  async mintToken(cluster: ClusterOf<"gcp">, signal: AbortSignal): Promise<MintedToken> {
    const source = gcpSourceOf(this.sources, cluster);
    const call: UpstreamCall = { provider: "gcp", operation: source.operation, metadata: { cluster_id: cluster.id, credentials: cluster.credentials } };
    try {
      return await raceAbort(source.accessToken(call), signal, call);
    } catch (err) {
      throw gcpServiceError(err, call, signal);
    }
  }
}

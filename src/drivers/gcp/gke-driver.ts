import { type GcpCluster, gcpProviderName } from "./gcp-config.js";
import { credentialEntryFor } from "../credential-entry.js";
import type { MintedToken, TokenDriver } from "../driver.js";
import type { UpstreamCall } from "../../errors/upstream-error.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { gcpServiceError } from "./gcp-errors.js";

/**
 * The GKE token driver: an OAuth2 access token with the scopes gke-gcloud-auth-plugin
 * uses, and its real expiry. GKE authenticates the caller's identity, so the token is
 * not bound to one cluster; the service's per-caller authorization is what limits it.
 */
export class GkeTokenDriver implements TokenDriver<GcpCluster> {
  constructor(private readonly sources: ReadonlyMap<string, GcpCredentialSource>) {}

  async mintToken(cluster: GcpCluster, signal: AbortSignal): Promise<MintedToken> {
    const source = credentialEntryFor(this.sources, cluster);
    const call: UpstreamCall = {
      provider: gcpProviderName,
      operation: source.operation,
      metadata: { cluster_id: cluster.id, credentials: cluster.credentials },
    };
    try {
      return await source.accessToken(call, signal);
    } catch (err) {
      throw gcpServiceError(err, call, signal);
    }
  }
}

import type { Clock } from "../../common/clock.js";
import { type AwsCluster, awsProviderName } from "./aws-config.js";
import { credentialEntryFor } from "../credential-entry.js";
import type { MintedToken, TokenDriver } from "../driver.js";
import type { UpstreamCall } from "../../errors/upstream-error.js";
import type { AwsCredentialSource } from "./aws-credentials.js";
import { awsServiceError } from "./aws-errors.js";
import { mintEksToken } from "./eks-token.js";

/**
 * The AWS EKS token driver. Tokens are presigned locally; the only network call is
 * STS AssumeRole, for credentials with a `roleArn`.
 */
export class EksTokenDriver implements TokenDriver<AwsCluster> {
  constructor(
    private readonly sources: ReadonlyMap<string, AwsCredentialSource>,
    private readonly clock: Clock,
  ) {}

  async mintToken(cluster: AwsCluster, signal: AbortSignal): Promise<MintedToken> {
    const source = credentialEntryFor(this.sources, cluster);
    const call: UpstreamCall = {
      provider: awsProviderName,
      operation: source.operation,
      metadata: { cluster_id: cluster.id, credentials: cluster.credentials },
    };
    let credentials;
    try {
      credentials = await source.resolve(signal);
    } catch (err) {
      throw awsServiceError(err, call, signal);
    }
    return mintEksToken({ credentials, region: cluster.region, clusterName: cluster.name, now: new Date(this.clock.now()) });
  }
}

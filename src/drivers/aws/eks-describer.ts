import { type AwsCluster, awsProviderName } from "./aws-config.js";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { credentialEntryFor } from "../credential-entry.js";
import type { ClusterAccess, ClusterDescriber, ProviderOptions } from "../driver.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { ServiceError } from "../../errors/service-error.js";
import { awsClientTuning, type AwsCredentialSource } from "./aws-credentials.js";
import { awsServiceError } from "./aws-errors.js";

/**
 * Discovers an EKS cluster's endpoint and CA with the EKS DescribeCluster API
 * (SigV4, service `eks`), through the AWS SDK. One client is kept per credential,
 * region and endpoint, so connections and resolved credentials are reused.
 */
export class EksClusterDescriber implements ClusterDescriber<AwsCluster> {
  private readonly clients = new Map<string, EKSClient>();

  constructor(
    private readonly sources: ReadonlyMap<string, AwsCredentialSource>,
    private readonly options: ProviderOptions,
  ) {}

  async describeCluster(cluster: AwsCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: awsProviderName, operation: "eks:DescribeCluster", metadata: { cluster_id: cluster.id } };
    let described;
    try {
      const source = credentialEntryFor(this.sources, cluster);
      // Resolved here, with the caller's signal, so that waiting on STS is abortable too; the client then finds them cached.
      await source.resolve(signal);
      const output = await this.client(cluster, source).send(new DescribeClusterCommand({ name: cluster.name }), { abortSignal: signal });
      described = output.cluster;
    } catch (err) {
      throw awsServiceError(err, call, signal);
    }
    const server = described?.endpoint;
    const certificateAuthorityData = described?.certificateAuthority?.data;
    if (server && certificateAuthorityData) return { server, certificateAuthorityData };
    if (described?.status && described.status !== "ACTIVE") {
      throw new ServiceError({
        reason: "CLUSTER_NOT_READY",
        message: `EKS cluster ${cluster.name} is ${described.status}, so it has no endpoint yet`,
        metadata: { cluster_id: cluster.id, status: described.status },
      });
    }
    throw upstreamBadResponse(call, new Error("DescribeCluster returned no endpoint or CA"));
  }

  /** Releases every client's connections. */
  close(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private client(cluster: AwsCluster, source: AwsCredentialSource): EKSClient {
    const key = `${cluster.credentials}\n${cluster.region}\n${cluster.apiEndpoint ?? ""}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new EKSClient({
        region: cluster.region,
        credentials: source.provider,
        ...(cluster.apiEndpoint ? { endpoint: cluster.apiEndpoint } : {}),
        ...awsClientTuning(this.options),
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

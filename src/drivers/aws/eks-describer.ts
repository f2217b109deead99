import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { credentialEntryFor } from "../credential-entry.js";
import type { ClusterAccess, ClusterDescriber, ClusterOf } from "../driver.js";
import { upstreamBadResponse, type UpstreamCall } from "../upstream-error.js";
import { ServiceError } from "../../errors/service-error.js";
import type { AwsCredentialSource } from "./aws-credentials.js";
import { awsServiceError } from "./aws-errors.js";

/**
 * Discovers an EKS cluster's endpoint and CA with the EKS DescribeCluster API
 * (SigV4, service `eks`), through the AWS SDK. One client is kept per credential,
 * region and endpoint, so connections and resolved credentials are reused.
 */
export class EksClusterDescriber implements ClusterDescriber<ClusterOf<"aws">> {
  private readonly clients = new Map<string, EKSClient>();

  constructor(private readonly sources: ReadonlyMap<string, AwsCredentialSource>) {}

  async describeCluster(cluster: ClusterOf<"aws">, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: "aws", operation: "eks:DescribeCluster", metadata: { cluster_id: cluster.id } };
    let described;
    try {
      const output = await this.client(cluster).send(new DescribeClusterCommand({ name: cluster.name }), { abortSignal: signal });
      described = output.cluster;
    } catch (err) {
      throw awsServiceError(err, call, signal);
    }
    const server = described?.endpoint;
    const certificateAuthorityData = described?.certificateAuthority?.data;
    if (server && certificateAuthorityData) return { server, certificateAuthorityData };
    if (described?.status && described.status !== "ACTIVE") {
      throw new ServiceError({
        code: "FailedPrecondition",
        reason: "CLUSTER_NOT_READY",
        message: `EKS cluster ${cluster.name} is ${described.status}, so it has no endpoint yet`,
        metadata: { cluster_id: cluster.id, status: described.status },
      });
    }
    throw upstreamBadResponse(call, new Error("DescribeCluster returned no endpoint or CA"));
  }

  private client(cluster: ClusterOf<"aws">): EKSClient {
    const key = `${cluster.credentials}\n${cluster.region}\n${cluster.apiEndpoint ?? ""}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new EKSClient({
        region: cluster.region,
        credentials: credentialEntryFor(this.sources, cluster).provider,
        ...(cluster.apiEndpoint ? { endpoint: cluster.apiEndpoint } : {}),
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

import { type AwsCluster, awsProviderName } from "./aws-config.js";
import { DescribeClusterCommand } from "@aws-sdk/client-eks";
import { credentialEntryFor } from "../credential-entry.js";
import type { ClusterAccess, ClusterDescriber } from "../driver.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { ServiceError } from "../../errors/service-error.js";
import type { AwsCredentialSource } from "./aws-credentials.js";
import { awsServiceError } from "./aws-errors.js";
import type { EksClients } from "./eks-clients.js";

/**
 * Discovers an EKS cluster's endpoint and CA with the EKS DescribeCluster API
 * (SigV4, service `eks`), through the AWS SDK, on clients shared with the lister.
 */
export class EksClusterDescriber implements ClusterDescriber<AwsCluster> {
  constructor(
    private readonly sources: ReadonlyMap<string, AwsCredentialSource>,
    private readonly clients: EksClients,
  ) {}

  async describeCluster(cluster: AwsCluster, signal: AbortSignal): Promise<ClusterAccess> {
    const call: UpstreamCall = { provider: awsProviderName, operation: "eks:DescribeCluster", metadata: { cluster_id: cluster.id } };
    let described;
    try {
      const source = credentialEntryFor(this.sources, cluster);
      // Resolved here, with the caller's signal, so that waiting on STS is abortable too; the client then finds them cached.
      await source.resolve(signal);
      const output = await this.clients
        .for(cluster, source)
        .send(new DescribeClusterCommand({ name: cluster.name }), { abortSignal: signal });
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
}

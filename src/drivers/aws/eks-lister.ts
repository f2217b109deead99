import { DescribeClusterCommand, ListClustersCommand } from "@aws-sdk/client-eks";
import type { ClusterLister, ListedCluster } from "../cluster-lister.js";
import { credentialEntryFor, credentialUserMetadata } from "../credential-entry.js";
import type { ProviderOptions } from "../driver.js";
import { followPages, labelsOf, listedAccess, matchesFilter, namedBy } from "../listing-parts.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { type AwsAccount, awsClusterSchema, awsProviderName } from "./aws-config.js";
import type { AwsCredentialSource } from "./aws-credentials.js";
import { awsServiceError } from "./aws-errors.js";
import type { EksClients } from "./eks-clients.js";
import { taggedEksClusters } from "./tagging-api.js";

/** `maxResults` of EKS ListClusters: its maximum. */
export const listClustersPageSize = 100;

/**
 * Lists the EKS clusters of an AWS account, one region per scope, with the account's
 * credentials (assumed roles cached once, with the token driver's).
 *
 * A poll of a region costs, with N clusters in it:
 * - with `tags`: GetResources with one tag filter per key, ⌈M / 100⌉ requests (at
 *   least one) for the M clusters that match. The Tagging API is the listing: it
 *   reports a cluster once its tags have reached it, and a deleted one until they
 *   leave it, both usually within a minute; `lookup` covers a new cluster meanwhile.
 * - without: ListClusters, ⌈N / 100⌉ requests (at least one), the membership,
 *   plus GetResources for the tags of every cluster ever tagged, ⌈T / 100⌉ (T ≤ N,
 *   at least one).
 *
 * Nothing per cluster: tag changes are seen at the next poll of the region.
 */
export class EksClusterLister implements ClusterLister<AwsAccount> {
  constructor(
    private readonly sources: ReadonlyMap<string, AwsCredentialSource>,
    private readonly clients: EksClients,
    private readonly options: ProviderOptions,
  ) {}

  async listScope(account: AwsAccount, region: string, signal: AbortSignal): Promise<readonly ListedCluster[]> {
    const source = credentialEntryFor(this.sources, account);
    const tagging = this.call(account, region, "tag:GetResources");
    const credentials = await this.credentials(source, tagging, signal);
    const tagged = await taggedEksClusters({
      call: tagging,
      credentials,
      region,
      apiEndpoint: account.apiEndpoint,
      tags: account.tags,
      clock: this.options.clock,
      timeoutMs: this.options.upstreamTimeoutMs,
      signal,
    });
    // A filter asks of tags alone, so the Tagging API's answer is the listing.
    if (Object.keys(account.tags).length > 0) {
      return tagged.filter(({ tags }) => matchesFilter(tags, account.tags)).map(({ name, tags }) => listed(region, name, tags));
    }
    const tags = new Map(tagged.map((cluster) => [cluster.name, cluster.tags]));
    const names = await this.clusterNames(account, region, source, signal);
    return names.map((name) => listed(region, name, tags.get(name) ?? {}));
  }

  /**
   * DescribeCluster in the region: one request. Only a name as EKS spells it is
   * found, so a cluster whose name has capitals or `_` (which a default id lowers
   * and turns into `-`) cannot be looked up from its id; a poll finds it.
   */
  async lookup(account: AwsAccount, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    if (!account.regions.includes(region) || !awsClusterSchema.shape.name.safeParse(name).success) return undefined;
    const source = credentialEntryFor(this.sources, account);
    const call = this.call(account, region, "eks:DescribeCluster");
    await this.credentials(source, call, signal);
    let described;
    try {
      const client = this.clients.for({ credentials: account.credentials, region, apiEndpoint: account.apiEndpoint }, source);
      described = (await client.send(new DescribeClusterCommand({ name }), { abortSignal: signal })).cluster;
    } catch (err) {
      const failure = awsServiceError(err, call, signal);
      if (failure.reason === "UPSTREAM_NOT_FOUND") return undefined;
      throw failure;
    }
    const tags = labelsOf(described?.tags);
    if (typeof described?.name !== "string" || !tags)
      throw upstreamBadResponse(call, new Error("DescribeCluster answered without the cluster"));
    if (!namedBy({ name: described.name, region }, name, region) || !matchesFilter(tags, account.tags)) return undefined;
    return listed(region, described.name, tags, listedAccess(described.endpoint, described.certificateAuthority?.data));
  }

  /** Every cluster name of the region, by ListClusters, 100 per page. */
  private clusterNames(account: AwsAccount, region: string, source: AwsCredentialSource, signal: AbortSignal): Promise<string[]> {
    const call = this.call(account, region, "eks:ListClusters");
    const client = this.clients.for({ credentials: account.credentials, region, apiEndpoint: account.apiEndpoint }, source);
    return followPages(call, async (nextToken) => {
      let page;
      try {
        page = await client.send(new ListClustersCommand({ maxResults: listClustersPageSize, ...(nextToken ? { nextToken } : {}) }), {
          abortSignal: signal,
        });
      } catch (err) {
        throw awsServiceError(err, call, signal);
      }
      if (!Array.isArray(page.clusters)) throw upstreamBadResponse(call, new Error("a page without its clusters"));
      return { items: page.clusters, next: page.nextToken };
    });
  }

  /** The account's credentials, resolved with the caller's signal so that waiting on STS is abortable too. */
  private async credentials(source: AwsCredentialSource, call: UpstreamCall, signal: AbortSignal) {
    try {
      return await source.resolve(signal);
    } catch (err) {
      throw awsServiceError(err, { ...call, operation: source.operation }, signal);
    }
  }

  private call(account: AwsAccount, region: string, operation: string): UpstreamCall {
    return { provider: awsProviderName, operation, metadata: { ...credentialUserMetadata(account), scope: region } };
  }
}

function listed(region: string, name: string, tags: Record<string, string>, access = {}): ListedCluster {
  return { name, region, labels: tags, entry: { region, name, ...access } };
}

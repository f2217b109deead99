import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import type { ClusterLister, ListedCluster } from "../cluster-lister.js";
import { credentialUserMetadata } from "../credential-entry.js";
import { httpsEndpoint, idSpelling, maxListingPageBytes, namedBy, soleMatch } from "../listing-parts.js";
import { type NcpAccount, ncpProviderName } from "./ncp-config.js";
import { ncpStage } from "./ncp-signature.js";
import type { NksApi } from "./nks-api.js";

/** An NCP region code, as `regionCode` holds it. */
const regionCode = /^[A-Z]{1,8}$/;

/**
 * Lists NKS clusters with the cluster list API, `GET /vnks/{stage}/clusters` on the
 * region's staged path (`v2` for KR, `sgn-v2`, `jpn-v2`, …), signed like every NKS
 * call. The API answers a region's clusters in one response, without paging, and
 * its clusters carry no tags (the account schema refuses a tag filter). A lookup is
 * that listing searched for the name: the API has no get by name.
 */
export class NksClusterLister implements ClusterLister<NcpAccount> {
  constructor(private readonly api: NksApi) {}

  async listScope(account: NcpAccount, region: string, signal: AbortSignal): Promise<readonly ListedCluster[]> {
    const call: UpstreamCall = {
      provider: ncpProviderName,
      operation: "nks:GetClusterList",
      metadata: { ...credentialUserMetadata(account), scope: region },
    };
    const body = (await this.api.get(call, account, `/vnks/${ncpStage(region, "v2")}/clusters`, signal, maxListingPageBytes)) as {
      clusters?: unknown;
    } | null;
    if (!Array.isArray(body?.clusters)) throw upstreamBadResponse(call, new Error("an answer without its clusters list"));
    return body.clusters.map((item) => listedNksCluster(item, region, call));
  }

  async lookup(account: NcpAccount, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined> {
    const scope = account.regions.find((listed) => idSpelling(listed) === idSpelling(region));
    if (scope === undefined) return undefined;
    return soleMatch((await this.listScope(account, scope, signal)).filter((cluster) => namedBy(cluster, name, region)));
  }
}

/**
 * One cluster of the list, as the core registers it: its UUID, name and region
 * code, and its `endpoint` (the control plane's URL) when it is https. A cluster
 * without a UUID or name, or whose region code belongs to another stage than the one
 * listed, makes the answer malformed.
 */
function listedNksCluster(item: unknown, scope: string, call: UpstreamCall): ListedCluster {
  const cluster = item as { uuid?: unknown; name?: unknown; regionCode?: unknown; endpoint?: unknown } | null;
  const { uuid, name } = cluster ?? {};
  if (typeof uuid !== "string" || typeof name !== "string")
    throw upstreamBadResponse(call, new Error("a cluster without its uuid or name"));
  const reported = cluster?.regionCode;
  const region = typeof reported === "string" && regionCode.test(reported) ? reported : scope;
  if (ncpStage(region, "v2") !== ncpStage(scope, "v2"))
    throw upstreamBadResponse(call, new Error(`a cluster of region ${region} in the listing of ${scope}`));
  const endpoint = httpsEndpoint(cluster?.endpoint);
  return { entry: { region, uuid, name, ...(endpoint ? { endpoint } : {}) }, name, region, labels: {} };
}

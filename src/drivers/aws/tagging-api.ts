import { Hash } from "@smithy/core/serde";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { Clock } from "../../common/clock.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { followPages, labelsOf, maxListingPageBytes } from "../listing-parts.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { awsJsonError } from "./aws-errors.js";
import { partitionDnsSuffix } from "./sts-host.js";

// The Resource Groups Tagging API, which no SDK the project uses covers: AWS JSON 1.1
// over HTTPS POST, SigV4 for service `tagging`, named as AWS's API reference names it.

/** The `X-Amz-Target` of GetResources. */
export const getResourcesTarget = "ResourceGroupsTaggingAPI_20170126.GetResources";
/** The SigV4 signing name of the Tagging API. */
export const taggingSigningName = "tagging";
/** The content type of the AWS JSON 1.1 protocol. */
export const awsJson11ContentType = "application/x-amz-json-1.1";
/** The resource type filter of EKS clusters. */
export const eksClusterResourceType = "eks:cluster";
/** The most resources GetResources returns per page (its maximum). */
export const resourcesPerPage = 100;

const sha256 = Hash.bind(null, "sha256");
const clusterArn = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):\d{12}:cluster\/(.+)$/;

/** An EKS cluster as the Tagging API reports it: its name and current tags. */
export interface TaggedCluster {
  readonly name: string;
  readonly tags: Record<string, string>;
}

/** What one listing of a region's tagged EKS clusters needs. */
export interface TaggingRequest {
  readonly call: UpstreamCall;
  readonly credentials: AwsCredentialIdentity;
  readonly region: string;
  /** The Tagging API's base URL instead of the region's own. */
  readonly apiEndpoint?: string | undefined;
  /** Only clusters with every pair: one tag filter per key. */
  readonly tags: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** The Tagging API's base URL of a region: `https://tagging.<region>.<partition suffix>`. */
export function taggingEndpoint(region: string): string {
  return `https://tagging.${region}.${partitionDnsSuffix(region)}`;
}

/**
 * Every EKS cluster of a region that the Tagging API reports, with its tags, 100 per
 * request, following `PaginationToken` to the end. With `tags`, only the clusters
 * that carry them all (AWS ANDs tag filters). Without, GetResources reports every
 * cluster that is or was ever tagged, and none that never was: it says what tags a
 * cluster has, never which clusters exist. Each page is one bounded attempt.
 */
export function taggedEksClusters(request: TaggingRequest): Promise<TaggedCluster[]> {
  const { call, region, tags } = request;
  const url = new URL(request.apiEndpoint ?? taggingEndpoint(region));
  const tagFilters = Object.entries(tags).map(([Key, value]) => ({ Key, Values: [value] }));
  return followPages(call, async (token) => {
    const body = JSON.stringify({
      ResourceTypeFilters: [eksClusterResourceType],
      ResourcesPerPage: resourcesPerPage,
      ...(tagFilters.length > 0 ? { TagFilters: tagFilters } : {}),
      ...(token ? { PaginationToken: token } : {}),
    });
    const headers = await signedHeaders(request, url, body);
    const page = (await fetchUpstreamJson(call, {
      url,
      method: "POST",
      headers,
      body,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      // 100 clusters with AWS's 50 user tags each, of 128 and 256 characters, plus system tags: about 2 MiB.
      maxBytes: maxListingPageBytes,
      errorOf: (status, json) => awsJsonError(call, status, json),
    })) as { ResourceTagMappingList?: unknown; PaginationToken?: unknown };
    const mappings = page?.ResourceTagMappingList;
    if (!Array.isArray(mappings)) throw upstreamBadResponse(call, new Error("a page without ResourceTagMappingList"));
    const next = page.PaginationToken;
    if (next !== undefined && next !== null && typeof next !== "string")
      throw upstreamBadResponse(call, new Error("a PaginationToken that is not a string"));
    return { items: mappings.map((mapping) => taggedCluster(call, region, mapping)), next: next || undefined };
  });
}

function taggedCluster(call: UpstreamCall, region: string, mapping: { ResourceARN?: unknown; Tags?: unknown }): TaggedCluster {
  const [, arnRegion, name] = (typeof mapping?.ResourceARN === "string" && clusterArn.exec(mapping.ResourceARN)) || [];
  const tags = labelsOf(mapping?.Tags, { key: "Key", value: "Value" });
  if (arnRegion !== region || name === undefined || !tags) {
    throw upstreamBadResponse(call, new Error("a resource that is not an EKS cluster of the region"));
  }
  return { name, tags };
}

/** The headers of a GetResources request signed with SigV4 by the injected clock. */
async function signedHeaders(request: TaggingRequest, url: URL, body: string): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials: request.credentials, region: request.region, service: taggingSigningName, sha256 });
  const unsigned = new HttpRequest({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: { host: url.host, "content-type": awsJson11ContentType, "x-amz-target": getResourcesTarget },
    body,
  });
  const signed = await signer.sign(unsigned, { signingDate: new Date(request.clock.now()) });
  return signed.headers;
}

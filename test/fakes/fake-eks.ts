import { type Clock, systemClock } from "../../src/common/clock.js";
import { type Fault, type FakeReply, type FakeRequest, type FakeServer, startFakeServer } from "./fake-http-server.js";
import { pageOf, readPageToken } from "./fake-page-token.js";
import { awsJsonError, getResources, type TaggedResource } from "./fake-tagging.js";
import { verifyHeaderSignature, type KnownKey } from "./sigv4-verifier.js";

/** A cluster the fake EKS API knows. */
export interface FakeEksCluster {
  endpoint: string;
  caData: string;
  status?: string;
  /** Its tags, which DescribeCluster and the Tagging API report. */
  tags?: Record<string, string>;
}

/** The APIs the fake serves, as its request counts name them. */
export type EksApi = "ListClusters" | "DescribeCluster" | "GetResources";

/** Options of {@link startFakeEks}. */
export interface FakeEksOptions {
  /** The region `clusters` are in. */
  region: string;
  /** Keys it accepts (share the fake STS's map so assumed roles work). */
  keys: ReadonlyMap<string, KnownKey>;
  clusters: Record<string, FakeEksCluster>;
  /** More regions it serves, with their clusters. */
  regions?: Record<string, Record<string, FakeEksCluster>>;
  /** The most a page holds, below what a request asks for (AWS's own maximum, 100, when absent). */
  pageSize?: number;
  /** The clock signatures are judged by; the wall clock when absent. */
  clock?: Clock;
}

/** A running fake EKS and Tagging API. */
export interface FakeEks extends FakeServer {
  /** Requests per API that passed the fake's server-wide fault (verified or not). */
  readonly calls: Record<EksApi, number>;
  /** Creates or replaces a cluster (its region is served from then on); a relabelling keeps it "ever tagged". */
  addCluster(region: string, name: string, cluster?: Partial<FakeEksCluster>): void;
  removeCluster(region: string, name: string): void;
  /** Answers page `page` (from 1) of an API's listing of `region` with `fault` (a status or garbage). */
  failPage(api: "ListClusters" | "GetResources", region: string, page: number, fault: Fault): void;
  /** Refuses every request for `region`: the credentials are not allowed there. */
  denyRegion(region: string): void;
  /** Leaves the list out of every page of `region`'s listings. */
  partialRegion(region: string): void;
  /** Deletes every cluster (the regions stay served) and clears every fault. */
  reset(): void;
}

const accountId = "123456789012";
const defaultEndpoint = "https://FAKE.gr7.eks.amazonaws.com";

/** A REST-JSON error of the EKS API: the status, its type in `x-amzn-errortype`, and a message. */
function eksError(status: number, type: string, message: string): FakeReply {
  return { status, headers: { "content-type": "application/json", "x-amzn-errortype": type }, body: JSON.stringify({ message }) };
}

function replyOf(fault: Fault): FakeReply {
  if ("garbage" in fault) return { status: 200, headers: { "content-type": "application/json" }, body: "<<<\u0000 not json \u00ff>>>" };
  if ("status" in fault)
    return { status: fault.status, headers: { "content-type": fault.contentType ?? "text/plain" }, body: fault.body ?? "" };
  throw new Error("a page fault is a status or garbage; hold every request with the server's fault instead");
}

/**
 * A local EKS and Resource Groups Tagging API on one server, for every region it
 * serves, as an account's `apiEndpoint` points both at one base URL. It verifies for
 * real: every request carries a SigV4 Authorization header signed with a key in
 * `keys`, by its clock, for the service of the API called (`eks` for
 * `GET /clusters` and `GET /clusters/{name}`, `tagging` for `POST /` with
 * `X-Amz-Target: ResourceGroupsTaggingAPI_20170126.GetResources`) and a region it
 * serves. ListClusters and GetResources page as AWS does (`maxResults` and
 * `nextToken`; `ResourcesPerPage` and `PaginationToken`), GetResources honours tag
 * filters and reports only clusters that were ever tagged.
 */
export async function startFakeEks(options: FakeEksOptions): Promise<FakeEks> {
  const clock = options.clock ?? systemClock;
  const pageSize = options.pageSize ?? 100;
  const regions = new Map<string, Map<string, FakeEksCluster & TaggedResource>>();
  const calls: Record<EksApi, number> = { ListClusters: 0, DescribeCluster: 0, GetResources: 0 };
  let pageFaults: { api: EksApi; region: string; page: number; fault: Fault }[] = [];
  const denied = new Set<string>();
  const partial = new Set<string>();

  const served = (region: string) => {
    const clusters = regions.get(region) ?? new Map<string, FakeEksCluster & TaggedResource>();
    regions.set(region, clusters);
    return clusters;
  };
  const add = (region: string, name: string, cluster: Partial<FakeEksCluster> = {}) => {
    const tags = cluster.tags ?? {};
    const everTagged = Object.keys(tags).length > 0 || (served(region).get(name)?.everTagged ?? false);
    served(region).set(name, { endpoint: `${defaultEndpoint}/${name}`, caData: "", ...cluster, tags, everTagged });
  };
  served(options.region);
  for (const [name, cluster] of Object.entries(options.clusters)) add(options.region, name, cluster);
  for (const [region, clusters] of Object.entries(options.regions ?? {})) {
    served(region);
    for (const [name, cluster] of Object.entries(clusters)) add(region, name, cluster);
  }
  const pageFault = (api: EksApi, region: string, page: number) => {
    const fault = pageFaults.find((f) => f.api === api && f.region === region && f.page === page)?.fault;
    return fault ? replyOf(fault) : undefined;
  };

  const handle = (req: FakeRequest): FakeReply => {
    const path = req.url.pathname;
    const tagging =
      req.method === "POST" && path === "/" && req.headers["x-amz-target"] === "ResourceGroupsTaggingAPI_20170126.GetResources";
    const describe = /^\/clusters\/([^/]+)$/.exec(path);
    const api: EksApi | undefined = tagging
      ? "GetResources"
      : path === "/clusters"
        ? "ListClusters"
        : describe
          ? "DescribeCluster"
          : undefined;
    const refuse = (status: number, type: string, message: string) =>
      tagging ? awsJsonError(type, message, status === 403 ? 400 : status) : eksError(status, type, message);
    if (!api || (!tagging && req.method !== "GET")) return refuse(404, "NotFoundException", "no such operation");
    calls[api]++;
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (!regions.has(region)) return refuse(403, "InvalidSignatureException", "Credential should be scoped to a valid region");
    const verdict = verifyHeaderSignature(
      { method: req.method, path, query: req.url.searchParams, headers: req.headers, body: req.body },
      options.keys,
      { region, service: tagging ? "tagging" : "eks", now: new Date(clock.now()) },
    );
    if (!verdict.ok)
      return refuse(
        403,
        verdict.reason === "unknown access key" ? "UnrecognizedClientException" : "InvalidSignatureException",
        verdict.reason,
      );
    if (denied.has(region)) return refuse(403, "AccessDeniedException", `not authorized in ${region}`);
    const clusters = served(region);
    if (tagging) {
      return getResources(
        { region, account: accountId, clusters, pageSize, partial: partial.has(region), pageFault: (page) => pageFault(api, region, page) },
        req.body,
      );
    }
    if (describe) return describeCluster(region, decodeURIComponent(describe[1]!), clusters.get(decodeURIComponent(describe[1]!)));
    return listClusters(req, region, [...clusters.keys()].sort());
  };

  const listClusters = (req: FakeRequest, region: string, names: string[]): FakeReply => {
    const maxResults = Number(req.url.searchParams.get("maxResults") ?? 100);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100)
      return eksError(400, "InvalidParameterException", "maxResults must be 1 to 100");
    const token = req.url.searchParams.get("nextToken");
    const position = token === null ? undefined : readPageToken(token);
    if (token !== null && position?.scope !== region) return eksError(400, "InvalidParameterException", "the nextToken is not valid");
    const { page, names: listed, next } = pageOf(names, region, position, Math.min(maxResults, pageSize));
    const fault = pageFault("ListClusters", region, page);
    if (fault) return fault;
    const body = { ...(partial.has(region) ? {} : { clusters: listed }), nextToken: next ?? null };
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  };

  const describeCluster = (region: string, name: string, cluster: FakeEksCluster | undefined): FakeReply => {
    if (!cluster) return eksError(404, "ResourceNotFoundException", `No cluster found for name: ${name}.`);
    const described = {
      name,
      arn: `arn:aws:eks:${region}:${accountId}:cluster/${name}`,
      endpoint: cluster.endpoint,
      status: cluster.status ?? "ACTIVE",
      certificateAuthority: { data: cluster.caData },
      tags: cluster.tags ?? {},
    };
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ cluster: described }) };
  };

  const server = await startFakeServer(handle, { clock });
  return Object.assign(server, {
    calls,
    addCluster: add,
    removeCluster: (region: string, name: string) => void served(region).delete(name),
    failPage: (api: "ListClusters" | "GetResources", region: string, page: number, fault: Fault) =>
      void pageFaults.push({ api, region, page, fault }),
    denyRegion: (region: string) => void denied.add(region),
    partialRegion: (region: string) => void partial.add(region),
    reset() {
      for (const clusters of regions.values()) clusters.clear();
      pageFaults = [];
      denied.clear();
      partial.clear();
    },
  });
}

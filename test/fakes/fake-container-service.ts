import { stringify } from "yaml";
import type { Clock } from "../../src/common/clock.js";
import type { Verdict } from "./verdict.js";
import { type FakeReply, type FakeRequest, type FakeServer, startFakeServer } from "./fake-http-server.js";
import { type ApiCounts, FakeClusters, jsonReply as json, type ListFaults } from "./list-api.js";

/** The page size DescribeClustersV1 uses when none is asked. */
const defaultPageSize = 10;

/** A cluster the fake Container Service knows. */
export interface FakeAckCluster {
  server: string;
  caData: string;
  /** Its region id; cn-hangzhou when absent. */
  region?: string;
  /** Its name; the cluster id when absent. */
  name?: string;
  tags?: Record<string, string>;
  /** Its state; running when absent. A `deleted` cluster is still listed, as ACK does for a while. */
  state?: string;
}

/** The fake Container Service (2015-12-15): DescribeClustersV1 and DescribeClusterUserKubeconfig. */
export interface FakeContainerService extends FakeServer {
  /** Creates or replaces the cluster with this id, seen by the next request. */
  putCluster(clusterId: string, cluster: FakeAckCluster): void;
  deleteCluster(clusterId: string): void;
  /** The largest `page_size` the API honours; a larger one is cut to it, as the API caps pages. */
  maxPageSize: number;
  /** Faults of DescribeClustersV1 by region (`region_id`); a denied region is refused for kubeconfigs too. */
  readonly faults: ListFaults;
  /** Requests by action: DescribeClustersV1, DescribeClusterUserKubeconfig. */
  readonly counts: ApiCounts;
  /** Deletes every cluster, and clears faults and counts. */
  reset(): void;
}

/**
 * Starts the fake Container Service. Every request must be ACS3-signed as `verify`
 * judges it (the fake Alibaba Cloud's verifier) and name its action and version.
 * DescribeClustersV1 (`GET /api/v1/clusters`) filters by `region_id` and `name` (a
 * substring, so callers must match names exactly themselves) and pages by
 * `page_number` and `page_size`, in cluster id order, with `page_info`.
 */
export async function startFakeContainerService(options: {
  clock: Clock;
  verify(req: FakeRequest): Verdict;
  clusters: Record<string, FakeAckCluster>;
}): Promise<FakeContainerService> {
  const clusters = new FakeClusters(options.clusters);
  const { faults, counts } = clusters;
  const regionOf = (cluster: FakeAckCluster) => cluster.region ?? "cn-hangzhou";
  const denied = (region: string) => json(403, { code: "StatusForbidden", message: `no permission for cs:GetClusters in ${region}` });

  const describeClusters = (req: FakeRequest): FakeReply => {
    counts.add("DescribeClustersV1");
    const q = req.url.searchParams;
    const region = q.get("region_id") ?? "";
    const number = Number(q.get("page_number") ?? "1");
    const size = Math.min(Number(q.get("page_size") ?? defaultPageSize), fake.maxPageSize);
    if (!Number.isSafeInteger(number) || number < 1 || !Number.isSafeInteger(size) || size < 1)
      return json(400, { code: "InvalidParameter", message: "page_number and page_size must be positive integers" });
    if (faults.isDenied(region)) return denied(region);
    const fault = faults.pageFault(region, number);
    if (fault) return fault;
    const name = q.get("name");
    const matching = clusters.view(JSON.stringify([region, name]), () =>
      clusters
        .entries()
        .filter(([id, c]) => (!region || regionOf(c) === region) && (name === null || (c.name ?? id).includes(name)))
        .sort(([a], [b]) => Number(a > b) - Number(a < b)),
    );
    const page = matching.slice((number - 1) * size, number * size).map(([id, c]) => ({
      cluster_id: id,
      name: c.name ?? id,
      region_id: regionOf(c),
      state: c.state ?? "running",
      cluster_type: "ManagedKubernetes",
      cluster_spec: "ack.pro.small",
      profile: "Default",
      current_version: "1.31.1-aliyun.1",
      tags: Object.entries(c.tags ?? {}).map(([key, value]) => ({ key, value })),
      master_url: JSON.stringify({ api_server_endpoint: c.server, intranet_api_server_endpoint: "https://192.168.0.10:6443" }),
    }));
    // A partial answer in the API's own terms: a total that the pages never reach.
    const total = matching.length + (faults.isPartial(region) ? 5 : 0);
    return json(200, { clusters: page, page_info: { page_number: number, page_size: size, total_count: total } });
  };

  const userKubeconfig = (clusterId: string): FakeReply => {
    counts.add("DescribeClusterUserKubeconfig");
    const cluster = clusters.get(clusterId);
    if (cluster && faults.isDenied(regionOf(cluster))) return denied(regionOf(cluster));
    if (!cluster) return json(404, { code: "ErrorClusterNotFound", message: "cluster not found" });
    const config = stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "kubernetes", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
      // The signing identity's own credential, which the service must never pass on.
      users: [{ name: "user", user: { "client-certificate-data": "RkFLRS1VU0VSLUNFUlQ=", "client-key-data": "RkFLRS1VU0VSLUtFWQ==" } }],
      contexts: [{ name: "ctx", context: { cluster: "kubernetes", user: "user" } }],
      "current-context": "ctx",
    });
    return json(200, { config, expiration: new Date(options.clock.now() + 3 * 3600_000).toISOString() });
  };

  const fake = Object.assign(
    await startFakeServer(
      (req) => {
        const verdict = options.verify(req);
        if (!verdict.ok) return json(403, { code: "SignatureDoesNotMatch", message: verdict.reason });
        const action = req.headers["x-acs-action"];
        if (req.method !== "GET" || req.headers["x-acs-version"] !== "2015-12-15") return json(404, { code: "InvalidAction.NotFound" });
        if (action === "DescribeClustersV1" && req.url.pathname === "/api/v1/clusters") return describeClusters(req);
        const match = /^\/k8s\/([^/]+)\/user_config$/.exec(req.url.pathname);
        if (action === "DescribeClusterUserKubeconfig" && match) return userKubeconfig(decodeURIComponent(match[1] ?? ""));
        return json(404, { code: "InvalidAction.NotFound" });
      },
      { clock: options.clock },
    ),
    {
      maxPageSize: 100,
      faults,
      counts,
      putCluster: (clusterId: string, cluster: FakeAckCluster) => clusters.put(clusterId, cluster),
      deleteCluster: (clusterId: string) => clusters.delete(clusterId),
      reset: () => clusters.reset(),
    },
  );
  return fake;
}

import { createHmac, timingSafeEqual } from "node:crypto";
import { stringify } from "yaml";
import { type Clock, systemClock } from "../../src/common/clock.js";
import { type FakeReply, type FakeRequest, startFakeServer, type FakeServer } from "./fake-http-server.js";
import { type ApiCounts, FakeClusters, jsonReply as json, type ListFaults } from "./list-api.js";
import type { Verdict } from "./verdict.js";

/** NCP's API gateway and IAM reject timestamps more than 5 minutes off. */
const maxSkewMs = 5 * 60_000;

/** A cluster the fake NKS API knows. */
export interface FakeNksCluster {
  region: string;
  server: string;
  caData: string;
  /** Its name, shown by the cluster list; the UUID's first part when absent. */
  name?: string;
}

/** A running fake NAVER Cloud. */
export interface FakeNcp extends FakeServer {
  /** Creates or replaces the cluster with this UUID, seen by the next request. */
  putCluster(uuid: string, cluster: FakeNksCluster): void;
  /** Deletes the cluster with this UUID. */
  deleteCluster(uuid: string): void;
  /** Faults of the cluster list, by API stage (`v2`, `sgn-v2`, …; see {@link nksStage}): the API has no paging, so page 1 only. */
  readonly faults: ListFaults;
  /** Requests by operation: GetClusterList, GetKubeconfig. */
  readonly counts: ApiCounts;
  /** Deletes every cluster, and clears faults and counts. */
  reset(): void;
  /** Verifies an NKS token as the cluster's IAM authenticator would, for the cluster with this UUID, now by the fake's clock unless given. */
  verifyNksToken(token: string, clusterUuid: string, now?: Date): Verdict;
}

function sign(secretKey: string, method: string, path: string, timestamp: string, accessKey: string): string {
  return createHmac("sha256", secretKey).update(`${method} ${path}\n${timestamp}\n${accessKey}`).digest("base64");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The stage NCP's paths give a region (written apart from the service's own on purpose). */
export function nksStage(region: string, version = "v2"): string {
  return region === "" || region === "KR" || region.startsWith("F") || region.includes("CS")
    ? version
    : `${region.toLowerCase()}-${version}`;
}

/**
 * A local NAVER Cloud: the NKS cluster list and kubeconfig APIs behind an API
 * gateway that checks `x-ncp-apigw-timestamp` (±5 minutes), `x-ncp-iam-access-key`
 * and recomputes `x-ncp-apigw-signature-v2` over the path and query; and an IAM
 * verifier for `k8s-ncp-v1.` tokens. Clusters can be added and deleted while it runs.
 */
export async function startFakeNcp(options: {
  keys: Record<string, string>;
  clusters: Record<string, FakeNksCluster>;
  /** NAVER Cloud's clock: timestamps are judged by it. The wall clock when absent. */
  clock?: Clock;
}): Promise<FakeNcp> {
  const clock = options.clock ?? systemClock;
  const clusters = new FakeClusters(options.clusters);
  const { faults, counts } = clusters;

  /** GET /vnks/{stage}/clusters: every cluster of the stage, in one answer, as NKS lists them. */
  const list = (stage: string): FakeReply => {
    counts.add("GetClusterList");
    if (faults.isDenied(stage)) return json(403, { error: { errorCode: "800", message: "Forbidden: no permission for vnks" } });
    const fault = faults.pageFault(stage, 1);
    if (fault) return fault;
    if (faults.isPartial(stage)) return json(200, {});
    const listed = clusters.entries().filter(([, cluster]) => nksStage(cluster.region) === stage);
    return json(200, {
      clusters: listed.map(([uuid, cluster]) => ({
        uuid,
        name: cluster.name ?? uuid.split("-")[0]?.toLowerCase(),
        regionCode: cluster.region || "KR",
        endpoint: cluster.server,
        status: "RUNNING",
        clusterType: "SVR.VNKS.STAND.C002.M008.NET.SSD.B050.G002",
        k8sVersion: "1.30.8-nks.1",
        kubeNetworkPlugin: "cilium",
        nodeCount: 3,
        publicNetwork: false,
      })),
    });
  };

  /** GET /vnks/{stage}/clusters/{uuid}/kubeconfig: the cluster's kubeconfig, with an admin user entry the service must drop. */
  const kubeconfig = (stage: string, uuid: string): FakeReply => {
    counts.add("GetKubeconfig");
    if (faults.isDenied(stage)) return json(403, { error: { errorCode: "800", message: "Forbidden: no permission for vnks" } });
    const cluster = clusters.get(uuid);
    if (!cluster || nksStage(cluster.region) !== stage) return json(404, { error: { message: "Cluster not found" } });
    const kubeconfig = stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "kubernetes", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
      users: [
        { name: "kubernetes-admin", user: { "client-certificate-data": "LEGACY-ADMIN-CERT", "client-key-data": "LEGACY-ADMIN-KEY" } },
      ],
      contexts: [{ name: "kubernetes-admin@kubernetes", context: { cluster: "kubernetes", user: "kubernetes-admin" } }],
      "current-context": "kubernetes-admin@kubernetes",
    });
    return json(200, { kubeconfig });
  };

  /** The API gateway's signature v2 check, then the route. */
  const handle = (req: FakeRequest): FakeReply => {
    const timestamp = req.headers["x-ncp-apigw-timestamp"] ?? "";
    const accessKey = req.headers["x-ncp-iam-access-key"] ?? "";
    const signature = req.headers["x-ncp-apigw-signature-v2"] ?? "";
    if (!/^\d{13}$/.test(timestamp) || Math.abs(clock.now() - Number(timestamp)) > maxSkewMs)
      return json(401, { error: { errorCode: "200", message: "Invalid timestamp" } });
    const secretKey = options.keys[accessKey];
    if (!secretKey) return json(401, { error: { errorCode: "210", message: "Invalid access key" } });
    if (!sameText(signature, sign(secretKey, req.method, req.url.pathname + req.url.search, timestamp, accessKey))) {
      return json(401, { error: { errorCode: "200", message: "Authentication Failed" } });
    }
    const match = /^\/vnks\/([a-z0-9-]+)\/clusters(?:\/([^/]+)\/kubeconfig)?$/.exec(req.url.pathname);
    if (req.method !== "GET" || !match) return json(404, { error: { message: "Not Found" } });
    return match[2] === undefined ? list(match[1]!) : kubeconfig(match[1]!, decodeURIComponent(match[2]));
  };
  const server = await startFakeServer(handle, { clock });

  return Object.assign(server, {
    faults,
    counts,
    putCluster: (uuid: string, cluster: FakeNksCluster) => clusters.put(uuid, cluster),
    deleteCluster: (uuid: string) => clusters.delete(uuid),
    reset: () => clusters.reset(),
    verifyNksToken(token: string, clusterUuid: string, now = new Date(clock.now())): Verdict {
      const prefix = "k8s-ncp-v1.";
      if (!token.startsWith(prefix)) return { ok: false, reason: "token lacks the k8s-ncp-v1. prefix" };
      const encoded = token.slice(prefix.length);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return { ok: false, reason: "token is not standard base64" };
      let claim: Record<string, unknown>;
      try {
        claim = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as Record<string, unknown>;
      } catch {
        return { ok: false, reason: "token is not JSON" };
      }
      if (Object.keys(claim).join(",") !== "timestamp,accessKey,signature,path")
        return { ok: false, reason: "claim fields are not timestamp, accessKey, signature, path" };
      const { timestamp, accessKey, signature, path } = claim as Record<string, string>;
      const cluster = clusters.get(clusterUuid);
      if (!cluster) return { ok: false, reason: "unknown cluster" };
      if (path !== `/iam/${nksStage(cluster.region, "v1")}/user?clusterUuid=${clusterUuid}`)
        return { ok: false, reason: "token is for another cluster or stage" };
      if (!/^\d{13}$/.test(timestamp ?? "") || Math.abs(now.getTime() - Number(timestamp)) > maxSkewMs)
        return { ok: false, reason: "timestamp outside 5 minutes" };
      const secretKey = options.keys[accessKey ?? ""];
      if (!secretKey) return { ok: false, reason: "unknown access key" };
      if (!sameText(signature ?? "", sign(secretKey, "GET", path, timestamp!, accessKey!)))
        return { ok: false, reason: "signature does not match" };
      return { ok: true, identity: accessKey! };
    },
  });
}

import { type Clock, systemClock } from "../../src/common/clock.js";
import { startFakeServer, type FakeServer } from "./fake-http-server.js";
import { verifyHeaderSignature, type KnownKey } from "./sigv4-verifier.js";

/** A cluster the fake EKS API knows. */
export interface FakeEksCluster {
  endpoint: string;
  caData: string;
  status?: string;
}

/**
 * A local EKS API serving DescribeCluster (`GET /clusters/{name}`). Every request
 * must carry a valid SigV4 Authorization header for service `eks` in `region`,
 * signed with a key in `keys` (share the fake STS's map so assumed roles work).
 */
export async function startFakeEks(options: {
  region: string;
  keys: ReadonlyMap<string, KnownKey>;
  clusters: Record<string, FakeEksCluster>;
  /** The clock signatures are judged by; the wall clock when absent. */
  clock?: Clock;
}): Promise<FakeServer> {
  const clock = options.clock ?? systemClock;
  return startFakeServer(
    (req) => {
      const json = (status: number, body: unknown) => ({
        status,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const verdict = verifyHeaderSignature(
        { method: req.method, path: req.url.pathname, query: req.url.searchParams, headers: req.headers, body: req.body },
        options.keys,
        { region: options.region, service: "eks", now: new Date(clock.now()) },
      );
      if (!verdict.ok) return json(403, { message: verdict.reason });
      const match = /^\/clusters\/([^/]+)$/.exec(req.url.pathname);
      if (req.method !== "GET" || !match) return json(404, { message: "no such operation" });
      const name = decodeURIComponent(match[1]!);
      const cluster = options.clusters[name];
      if (!cluster)
        return {
          ...json(404, { message: `No cluster found for name: ${name}.` }),
          headers: { "content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException" },
        };
      return json(200, {
        cluster: {
          name,
          arn: `arn:aws:eks:${options.region}:123456789012:cluster/${name}`,
          endpoint: cluster.endpoint,
          status: cluster.status ?? "ACTIVE",
          certificateAuthority: { data: cluster.caData },
        },
      });
    },
    { clock },
  );
}

import { stringify } from "yaml";
import type { Clock } from "../../src/common/clock.js";
import { type FakeReply, type FakeRequest, type FakeServer, startFakeServer } from "./fake-http-server.js";
import { FakeClusters, firstAbove, jsonReply, type ListFaults, type ApiCounts } from "./list-api.js";

/** The managedClusters API versions the fake ARM serves; any other is refused, as ARM does. */
const apiVersions = new Set(["2024-08-01"]);
const provider = "providers/Microsoft.ContainerService/managedClusters";

/** An AKS cluster ARM knows. */
export interface FakeAksCluster {
  /** The API server URL; its host is the cluster's `properties.fqdn`. */
  server: string;
  caData: string;
  /** The Azure location; westeurope when absent. */
  location?: string;
  tags?: Record<string, string>;
  /** A private cluster: no public `fqdn`, only `privateFQDN` (its server's host). */
  private?: boolean;
}

/** The fake Azure Resource Manager: managedClusters list, get and listClusterUserCredential. */
export interface FakeArm extends FakeServer {
  /** Creates or replaces the cluster at "subscription/resourceGroup/name", seen by the next request. */
  putCluster(path: string, cluster: FakeAksCluster): void;
  /** Deletes the cluster at "subscription/resourceGroup/name". */
  deleteCluster(path: string): void;
  /** The paths of every cluster, sorted. */
  clusterPaths(): string[];
  /** Creates the resource group "subscription/resourceGroup" (a group also comes with its first cluster). */
  putResourceGroup(path: string): void;
  /** Clusters per page of a list; ARM's own size is not documented, so tests set it. */
  pageSize: number;
  /** Per-scope faults of lists and gets; a scope is "subscription" or "subscription/resourceGroup". */
  readonly faults: ListFaults;
  /** Requests by operation: managedClusters.list, managedClusters.listByResourceGroup, managedClusters.get, listClusterUserCredential. */
  readonly counts: ApiCounts;
  /** Deletes every cluster, and clears faults and counts; resource groups stay, as they do when their clusters go. */
  reset(): void;
}

/** What a list's `$skipToken` carries: the id the next page starts after, and its number. */
interface SkipToken {
  after: string;
  page: number;
}

/**
 * Starts a fake ARM over HTTPS. Every request must carry a bearer token that
 * `authorized` accepts (one the fake Entra ID issued for ARM, unexpired by the fake's
 * clock) and a supported `api-version`. Lists page by `nextLink` with a `$skipToken`
 * that names the last id returned, so clusters added or deleted between pages never
 * shift a page boundary; ids are in ARM's own form (`resourcegroups` lower-cased).
 */
export async function startFakeArm(options: {
  tls: { cert: Buffer; key: Buffer };
  clock: Clock;
  authorized(bearer: string): boolean;
  clusters: Record<string, FakeAksCluster>;
}): Promise<FakeArm> {
  const clusters = new FakeClusters(options.clusters);
  const { faults, counts } = clusters;
  const groups = new Set<string>(); // "subscription/resourceGroup", lower-cased: a resource group outlives its last cluster
  const putGroup = (path: string) => void groups.add(path.split("/").slice(0, 2).join("/").toLowerCase());
  for (const [path] of clusters.entries()) putGroup(path);
  const error = (status: number, code: string, message = code) => jsonReply(status, { error: { code, message } });
  const inScope = (path: string, sub: string, rg?: string) => {
    const [s = "", r = ""] = path.split("/");
    return s.toLowerCase() === sub.toLowerCase() && (rg === undefined || r.toLowerCase() === rg.toLowerCase());
  };
  /** The resource id ARM gives the cluster at `path`, with `resourcegroups` lower-cased as ARM writes it. */
  const armId = (path: string) => {
    const [sub = "", rg = "", name = ""] = path.split("/");
    return `/subscriptions/${sub}/resourcegroups/${rg}/${provider}/${name}`;
  };
  const resource = (path: string) => {
    const [, rg = "", name = ""] = path.split("/");
    const cluster = clusters.get(path) as FakeAksCluster;
    const location = cluster.location ?? "westeurope";
    return {
      id: armId(path),
      location,
      name,
      type: "Microsoft.ContainerService/ManagedClusters",
      ...(cluster.tags ? { tags: cluster.tags } : {}),
      properties: {
        provisioningState: "Succeeded",
        kubernetesVersion: "1.30.4",
        dnsPrefix: name,
        ...(cluster.private ? { privateFQDN: new URL(cluster.server).hostname } : { fqdn: new URL(cluster.server).hostname }),
        agentPoolProfiles: [{ name: "nodepool1", count: 3, vmSize: "Standard_DS2_v2", osType: "Linux" }],
        nodeResourceGroup: `MC_${rg}_${name}_${location}`,
      },
    };
  };

  const list = (req: FakeRequest, sub: string, rg: string | undefined): FakeReply => {
    const scope = rg === undefined ? sub : `${sub}/${rg}`;
    counts.add(rg === undefined ? "managedClusters.list" : "managedClusters.listByResourceGroup");
    if (faults.isDenied(sub, scope)) return error(403, "AuthorizationFailed", "The client does not have authorization to list");
    if (rg !== undefined && !groups.has(scope.toLowerCase())) return error(404, "ResourceGroupNotFound");
    const token = req.url.searchParams.get("$skipToken");
    let at: SkipToken = { after: "", page: 1 };
    if (token !== null) {
      try {
        at = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as SkipToken;
      } catch {
        return error(400, "InvalidSkipToken");
      }
    }
    const fault = faults.pageFault(scope, at.page);
    if (fault) return fault;
    if (faults.isPartial(scope)) return jsonReply(200, {});
    // In ARM's id order, compared lower-cased; only the page's clusters are described.
    const sorted = clusters.view(scope.toLowerCase(), () =>
      clusters
        .entries()
        .map(([path]) => path)
        .filter((path) => inScope(path, sub, rg))
        .map((path) => ({ key: armId(path).toLowerCase(), path }))
        .sort((a, b) => Number(a.key > b.key) - Number(a.key < b.key)),
    );
    const rest = sorted.slice(firstAbove(sorted, at.after));
    const value = rest.slice(0, fake.pageSize).map(({ path }) => resource(path));
    const foreign = at.page === 1 ? faults.foreignNextOf(scope) : undefined;
    if (rest.length <= fake.pageSize && foreign === undefined) return jsonReply(200, { value });
    const next = new URL(req.url.pathname, foreign ?? fake.url);
    next.searchParams.set("api-version", req.url.searchParams.get("api-version") ?? "");
    const skip: SkipToken = { after: value.at(-1)?.id.toLowerCase() ?? at.after, page: at.page + 1 };
    next.searchParams.set("$skipToken", Buffer.from(JSON.stringify(skip)).toString("base64url"));
    return jsonReply(200, { value, nextLink: next.href });
  };

  const kubeconfig = (path: string, name: string) => {
    const cluster = clusters.get(path) as FakeAksCluster;
    const value = stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
      users: [
        {
          name: "clusterUser",
          user: { exec: { command: "kubelogin", args: ["get-token", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"] } },
        },
      ],
    });
    return jsonReply(200, { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(value).toString("base64") }] });
  };

  const fake = Object.assign(
    await startFakeServer(
      (req) => {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
        if (!options.authorized(bearer)) return error(401, "InvalidAuthenticationToken", "The access token is invalid.");
        if (!apiVersions.has(req.url.searchParams.get("api-version") ?? "")) return error(400, "InvalidApiVersionParameter");
        const segments = req.url.pathname.split("/").slice(1).map(decodeURIComponent);
        const [s, sub = "", g, rg = "", ...tail] = segments;
        if (s !== "subscriptions") return error(404, "InvalidResourceType");
        const rest = g === "resourceGroups" ? tail.join("/") : segments.slice(2).join("/");
        if (req.method === "GET" && rest === provider) return list(req, sub, g === "resourceGroups" ? rg : undefined);
        if (g !== "resourceGroups" || !rest.startsWith(`${provider}/`)) return error(404, "InvalidResourceType");
        const [name = "", action, ...extra] = rest.slice(provider.length + 1).split("/");
        const get = action === undefined && req.method === "GET";
        if (extra.length > 0 || !(get || (action === "listClusterUserCredential" && req.method === "POST")))
          return error(404, "InvalidResourceType");
        const operation = get ? "managedClusters.get" : "listClusterUserCredential";
        const path = clusters.entries().find(([known]) => known.toLowerCase() === `${sub}/${rg}/${name}`.toLowerCase())?.[0] ?? "";
        counts.add(operation);
        if (faults.isDenied(sub, `${sub}/${rg}`)) return error(403, "AuthorizationFailed");
        if (!clusters.get(path)) return error(404, "ResourceNotFound", "The Resource was not found.");
        return operation === "managedClusters.get" ? jsonReply(200, resource(path)) : kubeconfig(path, name);
      },
      { tls: options.tls, clock: options.clock },
    ),
    {
      pageSize: 100,
      faults,
      counts,
      putCluster(path: string, cluster: FakeAksCluster) {
        clusters.put(path, cluster);
        putGroup(path);
      },
      deleteCluster: (path: string) => clusters.delete(path),
      clusterPaths: () =>
        clusters
          .entries()
          .map(([path]) => path)
          .sort(),
      putResourceGroup: putGroup,
      reset: () => clusters.reset(),
    },
  );
  return fake;
}

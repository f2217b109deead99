import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ClusterSchema,
  type ClusterTokenService,
  type GenerateTokenRequest,
  type GetKubeconfigRequest,
  type ListClustersRequest,
  KubeconfigMode,
} from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { mintedTokenFingerprint } from "./token-fingerprint.js";
import type { AccessPolicy, GrantableRpc } from "../auth/access-policy.js";
import type { MintedToken } from "../drivers/driver.js";
import type { ClusterPlacement } from "../drivers/provider-module.js";
import { driversFor, type DriverSet, type RegisteredCluster } from "./registered-cluster.js";
import { ServiceError } from "../errors/service-error.js";
import { sharedLookupError } from "../errors/upstream-error.js";
import { type AuthorizedMint, authorizeMint, notGranted } from "./authorized-mint.js";
import { type AuditFacts, type CallContext, withFacts } from "./call-context.js";
import type { ClusterAccessResolver } from "./cluster-access-resolver.js";
import { parseClusterFilter } from "./cluster-filter.js";
import { clusterPage, defaultPageSize, lastIdOfPageToken, maxPageSize, pageTokenAfter } from "./cluster-page.js";
import type { ClusterRegistry } from "./cluster-registry.js";
import { execCredentialResponse } from "./exec-credential-response.js";
import { type ExecSettings, execOptionFlags, execUser } from "./exec-kubeconfig.js";
import { renderKubeconfig } from "./kubeconfig.js";
import { invalidArgument, validApiVersion, validIdentity, validMode } from "./request-checks.js";
import type { ServiceHandlers } from "./service-handlers.js";
import type { TokenCache } from "./token-cache.js";
import { observeUpstream, type UpstreamObserver } from "./upstream-observer.js";
import { withRetries } from "./upstream-retry.js";

/** What the handlers are built from; wired by the composition root. */
export interface ClusterTokenDeps {
  /** The configured and discovered clusters; an id no listing has found yet is looked up in the cloud accounts. */
  registry: ClusterRegistry;
  /** The drivers of each provider served. */
  drivers: DriverSet;
  /** Finds server and CA for kubeconfigs, from the registry or the cloud. */
  access: ClusterAccessResolver;
  /** What exec kubeconfigs run; without `publicUrl`, exec mode is FAILED_PRECONDITION. */
  exec: ExecSettings;
  /** Who may call which RPC for which cluster. */
  policy: AccessPolicy;
  /** Reuses each caller's tokens; absent, every call mints. */
  tokens?: TokenCache;
  /** Told of every call to a cloud and every token-cache lookup (metrics). */
  observer?: HandlerObserver;
  /** What ListClusters shows as a cluster's region and name: its provider says (`clusterPlacement` of the provider list). */
  placement: (cluster: RegisteredCluster) => ClusterPlacement;
}

/** What the handlers report as they work; the composition root wires it to metrics. */
export interface HandlerObserver {
  upstream: UpstreamObserver;
  tokenCacheLookup(hit: boolean): void;
}

/**
 * The one implementation of `clustertoken.v1.ClusterTokenService`, served by both
 * transports. A request walks one line: validate, look up the cluster, mint with
 * the provider's driver, shape the response. Validation comes first, so malformed
 * requests never touch the registry or a cloud.
 */
export function createClusterTokenHandlers({
  registry,
  drivers,
  access,
  exec,
  policy,
  tokens,
  observer,
  placement,
}: ClusterTokenDeps): ServiceHandlers<typeof ClusterTokenService> {
  /** Mints for `cluster` as `identity`: the cluster with its credentials replaced by the identity's entry, which every driver keys its credential sources by. */
  async function mint({ cluster, identity }: AuthorizedMint, context: CallContext): Promise<MintedToken> {
    const driver = driversFor(drivers, cluster)?.token;
    if (!driver) {
      throw new ServiceError({
        reason: "PROVIDER_CANNOT_MINT",
        message: `provider ${cluster.provider} of cluster ${cluster.id} cannot mint tokens in this service`,
        metadata: { cluster_id: cluster.id, provider: cluster.provider },
      });
    }
    const minting = identity === cluster.credentials ? cluster : { ...cluster, credentials: identity };
    const mintOnce = (signal: AbortSignal) =>
      observeUpstream(observer?.upstream, cluster.provider, "token", () => driver.mintToken(minting, signal));
    if (!tokens) return withRetries(mintOnce, context);
    // The hot path: a reusable token answers without a signal, a retry loop or a promise of its own.
    const cached = tokens.cached(context.principal.name, identity, cluster);
    observer?.tokenCacheLookup(cached !== undefined);
    if (cached) return cached;
    const call = { provider: cluster.provider, operation: "token", metadata: { cluster_id: cluster.id } };
    return withRetries(
      (signal) =>
        tokens.get(context.principal.name, identity, cluster, signal, mintOnce).catch((err: unknown) => {
          throw sharedLookupError(err, signal, call);
        }),
      context,
    );
  }

  /** The cluster and identity {@link authorizeMint} finds, awaited only when it had to ask a cloud. */
  function authorized(
    rpcs: { rpc: GrantableRpc; mintedBy?: GrantableRpc },
    request: { clusterId: string; identity: string },
    context: CallContext,
    facts: AuditFacts,
  ) {
    return authorizeMint({ registry, policy }, rpcs, request.clusterId, validIdentity(request.identity), context, facts);
  }

  async function mintAudited(target: AuthorizedMint, context: CallContext, facts: AuditFacts): Promise<MintedToken> {
    const minted = await mint(target, context);
    facts.tokenExpiry = minted.expiresAt;
    facts.tokenFingerprint = mintedTokenFingerprint(minted);
    return minted;
  }

  // Each call gets its own facts object, returned with its outcome or its failure.
  return {
    generateToken: (request: GenerateTokenRequest, context: CallContext) => {
      const facts: AuditFacts = {};
      return withFacts(facts, async () => {
        const apiVersion = validApiVersion(request.apiVersion);
        const found = authorized({ rpc: "GenerateToken" }, request, context, facts);
        const target = found instanceof Promise ? await found : found;
        return execCredentialResponse(await mintAudited(target, context, facts), apiVersion);
      });
    },

    getKubeconfig: (request: GetKubeconfigRequest, context: CallContext) => {
      const facts: AuditFacts = {};
      return withFacts(facts, async () => {
        validMode(request.mode);
        const execMode = request.mode === KubeconfigMode.EXEC;
        const flags = execOptionFlags(request.execOptions, execMode);
        // An exec kubeconfig mints nothing: kubectl mints through GenerateToken, so its identity is chosen from those grants.
        const rpcs = execMode ? ({ rpc: "GetKubeconfig", mintedBy: "GenerateToken" } as const) : ({ rpc: "GetKubeconfig" } as const);
        const target = await authorized(rpcs, request, context, facts);
        const { cluster } = target;
        facts.kubeconfigMode = execMode ? "exec" : "embedded-token";
        if (execMode) {
          const user = execUser(exec, target, flags);
          // Discovery of the endpoint and CA uses the cluster's own credentials, whatever identity mints.
          const { server, certificateAuthorityData } = await access.resolve(cluster, context);
          return { kubeconfig: renderKubeconfig({ name: cluster.id, server, certificateAuthorityData, user }) };
        }
        // Both go to the cloud at most once each; neither needs the other, so they run together.
        const [{ server, certificateAuthorityData }, { token, expiresAt }] = await Promise.all([
          access.resolve(cluster, context),
          mintAudited(target, context, facts),
        ]);
        const kubeconfig = renderKubeconfig({ name: cluster.id, server, certificateAuthorityData, user: { token } });
        return { kubeconfig, expirationTimestamp: timestampFromDate(expiresAt) };
      });
    },

    listClusters: (request: ListClustersRequest, context: CallContext) =>
      withFacts({}, async () => {
        const principal = context.principal.name;
        if (request.pageSize < 0) throw invalidArgument("page_size", "INVALID_PAGE_SIZE", "page_size must not be negative");
        const filter = parseClusterFilter(request.filter);
        const afterId = request.pageToken === "" ? undefined : lastIdOfPageToken(request.pageToken, filter.canonical);
        if (request.pageToken !== "" && afterId === undefined) {
          throw invalidArgument("page_token", "INVALID_PAGE_TOKEN", "page_token is not a next_page_token of ListClusters with this filter");
        }
        if (!policy.allowsRpc(principal, "ListClusters")) throw notGranted(context, "ListClusters");
        const size = Math.min(request.pageSize || defaultPageSize, maxPageSize);
        const visible = (c: RegisteredCluster) =>
          policy.allows(principal, "ListClusters", c) &&
          filter.matches({
            provider: c.provider,
            labels: c.labels,
            get region() {
              return placement(c).region;
            },
          });
        const page = clusterPage(registry.list(), afterId, size, visible);
        return {
          nextPageToken: page.continueAfter === undefined ? "" : pageTokenAfter(page.continueAfter, filter.canonical),
          clusters: page.clusters.map((c) =>
            create(ClusterSchema, {
              id: c.id,
              provider: c.provider,
              ...placement(c),
              displayName: c.displayName,
              endpoint: access.knownServer(c) ?? "",
              labels: { ...c.labels },
              source: registry.source(c),
            }),
          ),
        };
      }),
  };
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ClusterSchema,
  type ClusterTokenService,
  type ExecOptions,
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
import type { ErrorReason } from "../errors/error-reasons.js";
import { ServiceError } from "../errors/service-error.js";
import { sharedLookupError } from "../errors/upstream-error.js";
import { type AuditFacts, type CallContext, withFacts } from "./call-context.js";
import type { ClusterAccessResolver } from "./cluster-access-resolver.js";
import { clusterIdProblem, maxClusterIdLength } from "./cluster-id.js";
import { clusterPage, defaultPageSize, lastIdOfPageToken, maxPageSize, pageTokenAfter } from "./cluster-page.js";
import type { ClusterRegistry } from "./cluster-registry.js";
import { defaultExecCredentialApiVersion, execCredentialApiVersions } from "./exec-credential.js";
import { execCredentialResponse } from "./exec-credential-response.js";
import { renderKubeconfig, type KubeconfigUser } from "./kubeconfig.js";
import type { ServiceHandlers } from "./service-handlers.js";
import type { TokenCache } from "./token-cache.js";
import { observeUpstream, type UpstreamObserver } from "./upstream-observer.js";
import { withRetries } from "./upstream-retry.js";

/** What the handlers are built from; wired by the composition root. */
export interface ClusterTokenDeps {
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

/** How exec kubeconfigs call back into this service. */
export interface ExecSettings {
  /** The Connect listener's URL as clients reach it. */
  publicUrl?: string;
  /** The command and its leading arguments, e.g. ["cluster-token"]. */
  command: readonly string[];
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
  async function mint(cluster: RegisteredCluster, context: CallContext): Promise<MintedToken> {
    const driver = driversFor(drivers, cluster)?.token;
    if (!driver) {
      throw new ServiceError({
        reason: "PROVIDER_CANNOT_MINT",
        message: `provider ${cluster.provider} of cluster ${cluster.id} cannot mint tokens in this service`,
        metadata: { cluster_id: cluster.id, provider: cluster.provider },
      });
    }
    const mintOnce = (signal: AbortSignal) =>
      observeUpstream(observer?.upstream, cluster.provider, "token", () => driver.mintToken(cluster, signal));
    if (!tokens) return withRetries(mintOnce, context);
    // The hot path: a reusable token answers without a signal, a retry loop or a promise of its own.
    const cached = tokens.cached(context.principal.name, cluster);
    observer?.tokenCacheLookup(cached !== undefined);
    if (cached) return cached;
    const call = { provider: cluster.provider, operation: "token", metadata: { cluster_id: cluster.id } };
    return withRetries(
      (signal) =>
        tokens.get(context.principal.name, cluster, signal, mintOnce).catch((err: unknown) => {
          throw sharedLookupError(err, signal, call);
        }),
      context,
    );
  }

  /**
   * Validates the id, checks permission, then looks the cluster up, in that order:
   * a caller without permission gets PERMISSION_DENIED whether or not the cluster
   * exists, so existence never leaks.
   */
  function authorizedCluster(rpc: GrantableRpc, clusterId: string, context: CallContext, facts: AuditFacts): RegisteredCluster {
    const problem = clusterIdProblem(clusterId);
    if (problem) throw invalidArgument("cluster_id", "INVALID_CLUSTER_ID", `cluster_id ${problem}`);
    facts.clusterId = clusterId;
    if (!policy.allows(context.principal.name, rpc, clusterId)) throw permissionDenied(context, rpc, clusterId);
    const cluster = registry.get(clusterId);
    if (!cluster) {
      throw new ServiceError({
        reason: "CLUSTER_NOT_FOUND",
        message: `cluster ${clusterId} is not registered`,
        metadata: { cluster_id: clusterId },
      });
    }
    facts.provider = cluster.provider;
    return cluster;
  }

  async function mintAudited(cluster: RegisteredCluster, context: CallContext, facts: AuditFacts): Promise<MintedToken> {
    const minted = await mint(cluster, context);
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
        const cluster = authorizedCluster("GenerateToken", request.clusterId, context, facts);
        return execCredentialResponse(await mintAudited(cluster, context, facts), apiVersion);
      });
    },

    getKubeconfig: (request: GetKubeconfigRequest, context: CallContext) => {
      const facts: AuditFacts = {};
      return withFacts(facts, async () => {
        validMode(request.mode);
        const execMode = request.mode === KubeconfigMode.EXEC;
        const flags = execOptionFlags(request.execOptions, execMode);
        const cluster = authorizedCluster("GetKubeconfig", request.clusterId, context, facts);
        facts.kubeconfigMode = execMode ? "exec" : "embedded-token";
        if (execMode) {
          const user = execUser(exec, cluster, flags);
          const { server, certificateAuthorityData } = await access.resolve(cluster, context);
          return { kubeconfig: renderKubeconfig({ name: cluster.id, server, certificateAuthorityData, user }) };
        }
        // Both go to the cloud at most once each; neither needs the other, so they run together.
        const [{ server, certificateAuthorityData }, { token, expiresAt }] = await Promise.all([
          access.resolve(cluster, context),
          mintAudited(cluster, context, facts),
        ]);
        const kubeconfig = renderKubeconfig({ name: cluster.id, server, certificateAuthorityData, user: { token } });
        return { kubeconfig, expirationTimestamp: timestampFromDate(expiresAt) };
      });
    },

    listClusters: (request: ListClustersRequest, context: CallContext) =>
      withFacts({}, async () => {
        const principal = context.principal.name;
        if (request.pageSize < 0) throw invalidArgument("page_size", "INVALID_PAGE_SIZE", "page_size must not be negative");
        const afterId = request.pageToken === "" ? undefined : lastIdOfPageToken(request.pageToken);
        if (request.pageToken !== "" && afterId === undefined) {
          throw invalidArgument("page_token", "INVALID_PAGE_TOKEN", "page_token is not a next_page_token of ListClusters");
        }
        if (!policy.allowsRpc(principal, "ListClusters")) throw permissionDenied(context, "ListClusters");
        const size = Math.min(request.pageSize || defaultPageSize, maxPageSize);
        const page = clusterPage(registry.list(), afterId, size, (c) => policy.allows(principal, "ListClusters", c.id));
        const last = page.clusters.at(-1);
        return {
          nextPageToken: page.more && last ? pageTokenAfter(last.id) : "",
          clusters: page.clusters.map((c) =>
            create(ClusterSchema, {
              id: c.id,
              provider: c.provider,
              ...placement(c),
              displayName: c.displayName,
              endpoint: access.knownServer(c) ?? "",
              labels: { ...c.labels },
            }),
          ),
        };
      }),
  };
}

function invalidArgument(field: string, reason: ErrorReason, message: string): ServiceError {
  return new ServiceError({ reason, message, metadata: { field } });
}

function permissionDenied(context: CallContext, rpc: GrantableRpc, clusterId?: string): ServiceError {
  const what = clusterId === undefined ? rpc : `${rpc} for cluster ${clusterId}`;
  return new ServiceError({
    reason: "NOT_GRANTED",
    message: `${context.principal.name} may not call ${what}`,
    metadata: { principal: context.principal.name, rpc, ...(clusterId === undefined ? {} : { cluster_id: clusterId }) },
  });
}

/** Flags of `cluster-token credential` from ExecOptions: absolute paths and an env name, validated. */
function execOptionFlags(options: ExecOptions | undefined, execMode: boolean): string[] {
  if (!options) return [];
  const { caFile, certFile, keyFile, apiKeyFile, apiKeyEnv } = options;
  const set = [caFile, certFile, keyFile, apiKeyFile, apiKeyEnv].some((v) => v !== "");
  if (!set) return [];
  if (!execMode) throw invalidArgument("exec_options", "EXEC_OPTIONS_WITHOUT_EXEC", "exec_options apply only to KUBECONFIG_MODE_EXEC");
  const flags: string[] = [];
  const path = (field: string, flag: string, value: string) => {
    if (value === "") return;
    if (!/^\/[^\0\n\r]{0,4095}$/.test(value))
      throw invalidArgument(`exec_options.${field}`, "INVALID_EXEC_OPTION", `exec_options.${field} must be an absolute path`);
    flags.push(flag, value);
  };
  path("ca_file", "--ca-file", caFile);
  path("cert_file", "--cert-file", certFile);
  path("key_file", "--key-file", keyFile);
  if ((certFile === "") !== (keyFile === ""))
    throw invalidArgument("exec_options.key_file", "INVALID_EXEC_OPTION", "exec_options.cert_file and key_file go together");
  if (apiKeyFile !== "" && apiKeyEnv !== "")
    throw invalidArgument(
      "exec_options.api_key_env",
      "INVALID_EXEC_OPTION",
      "set at most one of exec_options.api_key_file and api_key_env",
    );
  path("api_key_file", "--api-key-file", apiKeyFile);
  if (apiKeyEnv !== "") {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(apiKeyEnv))
      throw invalidArgument(
        "exec_options.api_key_env",
        "INVALID_EXEC_OPTION",
        "exec_options.api_key_env must be an environment variable name",
      );
    flags.push("--api-key-env", apiKeyEnv);
  }
  return flags;
}

function execUser({ publicUrl, command }: ExecSettings, cluster: RegisteredCluster, flags: readonly string[]): KubeconfigUser {
  if (!publicUrl) {
    throw new ServiceError({
      reason: "EXEC_NOT_CONFIGURED",
      message: "exec kubeconfigs need publicUrl in the service's config: the URL clients use to reach this service",
      metadata: { cluster_id: cluster.id },
    });
  }
  const [program = "cluster-token", ...leading] = command;
  return { exec: { command: program, args: [...leading, "credential", "--cluster", cluster.id, "--server", publicUrl, ...flags] } };
}

function validApiVersion(apiVersion: string): string {
  if (apiVersion === "") return defaultExecCredentialApiVersion;
  if (execCredentialApiVersions.includes(apiVersion)) return apiVersion;
  const shown = apiVersion.length > maxClusterIdLength ? `${apiVersion.slice(0, maxClusterIdLength)}…` : apiVersion;
  throw invalidArgument(
    "api_version",
    "UNSUPPORTED_API_VERSION",
    `api_version ${JSON.stringify(shown)} is not supported; use one of ${execCredentialApiVersions.join(", ")}`,
  );
}

function validMode(mode: KubeconfigMode): void {
  if (mode === KubeconfigMode.UNSPECIFIED || mode === KubeconfigMode.EMBEDDED_TOKEN || mode === KubeconfigMode.EXEC) return;
  throw invalidArgument("mode", "UNSUPPORTED_KUBECONFIG_MODE", `mode ${mode} is not a known KubeconfigMode`);
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ClusterSchema,
  type ClusterTokenService,
  type GenerateTokenRequest,
  type GetKubeconfigRequest,
  KubeconfigMode,
} from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { driversFor, type DriverSet, type MintedToken, type RegisteredCluster } from "../drivers/driver.js";
import { ServiceError } from "../errors/service-error.js";
import type { CallContext } from "./call-context.js";
import type { ClusterAccessResolver } from "./cluster-access-resolver.js";
import { clusterIdProblem, maxClusterIdLength } from "./cluster-id.js";
import type { ClusterRegistry } from "./cluster-registry.js";
import { defaultExecCredentialApiVersion, execCredentialApiVersions, execCredentialKind } from "./exec-credential.js";
import { renderKubeconfig, type KubeconfigUser } from "./kubeconfig.js";
import type { ServiceHandlers } from "./service-handlers.js";

/** What the handlers are built from; wired by the composition root. */
export interface ClusterTokenDeps {
  registry: ClusterRegistry;
  /** The drivers of each provider served. */
  drivers: DriverSet;
  /** Finds server and CA for kubeconfigs, from the registry or the cloud. */
  access: ClusterAccessResolver;
  /** What exec kubeconfigs run; without `publicUrl`, exec mode is FAILED_PRECONDITION. */
  exec: ExecSettings;
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
export function createClusterTokenHandlers({ registry, drivers, access, exec }: ClusterTokenDeps): ServiceHandlers<typeof ClusterTokenService> {
  async function mint(cluster: RegisteredCluster, context: CallContext): Promise<MintedToken> {
    const driver = driversFor(drivers, cluster)?.token;
    if (!driver) {
      throw new ServiceError({
        code: "FailedPrecondition",
        reason: "PROVIDER_CANNOT_MINT",
        message: `provider ${cluster.provider} of cluster ${cluster.id} cannot mint tokens in this service`,
        metadata: { cluster_id: cluster.id, provider: cluster.provider },
      });
    }
    return driver.mintToken(cluster, context.signal);
  }

  return {
    async generateToken(request: GenerateTokenRequest, context: CallContext) {
      const apiVersion = validApiVersion(request.apiVersion);
      const cluster = lookUp(registry, request.clusterId);
      const { token, expiresAt } = await mint(cluster, context);
      return { apiVersion, kind: execCredentialKind, status: { token, expirationTimestamp: timestampFromDate(expiresAt) } };
    },

    async getKubeconfig(request: GetKubeconfigRequest, context: CallContext) {
      validMode(request.mode);
      const cluster = lookUp(registry, request.clusterId);
      if (request.mode === KubeconfigMode.EXEC) {
        const user = execUser(exec, cluster);
        const { server, certificateAuthorityData } = await access.resolve(cluster, context.signal);
        return { kubeconfig: renderKubeconfig({ name: cluster.id, server, certificateAuthorityData, user }) };
      }
      // Both go to the cloud at most once each; neither needs the other, so they run together.
      const [{ server, certificateAuthorityData }, { token, expiresAt }] = await Promise.all([access.resolve(cluster, context.signal), mint(cluster, context)]);
      const kubeconfig = renderKubeconfig({ name: cluster.id, server, certificateAuthorityData, user: { token } });
      return { kubeconfig, expirationTimestamp: timestampFromDate(expiresAt) };
    },

    async listClusters() {
      return {
        clusters: registry.list().map((c) =>
          create(ClusterSchema, {
            id: c.id,
            provider: c.provider,
            region: c.region,
            name: c.name,
            displayName: c.displayName,
            endpoint: access.knownServer(c) ?? "",
            labels: { ...c.labels },
          }),
        ),
      };
    },
  };
}

function invalidArgument(field: string, reason: string, message: string): ServiceError {
  return new ServiceError({ code: "InvalidArgument", reason, message, metadata: { field } });
}

function lookUp(registry: ClusterRegistry, clusterId: string): RegisteredCluster {
  const problem = clusterIdProblem(clusterId);
  if (problem) throw invalidArgument("cluster_id", "INVALID_CLUSTER_ID", `cluster_id ${problem}`);
  const cluster = registry.get(clusterId);
  if (!cluster) {
    throw new ServiceError({ code: "NotFound", reason: "CLUSTER_NOT_FOUND", message: `cluster ${clusterId} is not registered`, metadata: { cluster_id: clusterId } });
  }
  return cluster;
}

function execUser({ publicUrl, command }: ExecSettings, cluster: RegisteredCluster): KubeconfigUser {
  if (!publicUrl) {
    throw new ServiceError({
      code: "FailedPrecondition",
      reason: "EXEC_NOT_CONFIGURED",
      message: "exec kubeconfigs need publicUrl in the service's config: the URL clients use to reach this service",
      metadata: { cluster_id: cluster.id },
    });
  }
  const [program, ...leading] = command;
  return { exec: { command: program!, args: [...leading, "credential", "--cluster", cluster.id, "--server", publicUrl] } };
}

function validApiVersion(apiVersion: string): string {
  if (apiVersion === "") return defaultExecCredentialApiVersion;
  if (execCredentialApiVersions.includes(apiVersion)) return apiVersion;
  const shown = apiVersion.length > maxClusterIdLength ? `${apiVersion.slice(0, maxClusterIdLength)}…` : apiVersion;
  throw invalidArgument("api_version", "UNSUPPORTED_API_VERSION", `api_version ${JSON.stringify(shown)} is not supported; use one of ${execCredentialApiVersions.join(", ")}`);
}

function validMode(mode: KubeconfigMode): void {
  if (mode === KubeconfigMode.UNSPECIFIED || mode === KubeconfigMode.EMBEDDED_TOKEN || mode === KubeconfigMode.EXEC) return;
  throw invalidArgument("mode", "UNSUPPORTED_KUBECONFIG_MODE", `mode ${mode} is not a known KubeconfigMode`);
}

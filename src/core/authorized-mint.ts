import type { AccessPolicy, GrantableRpc } from "../auth/access-policy.js";
import { ServiceError } from "../errors/service-error.js";
import type { AuditFacts, CallContext } from "./call-context.js";
import { clusterIdProblem } from "./cluster-id.js";
import type { ClusterRegistry } from "./cluster-registry.js";
import type { RegisteredCluster } from "./registered-cluster.js";
import { invalidArgument } from "./request-checks.js";

/** A minting call's cluster, and the cloud identity (a `credentials` entry's name) it mints with. */
export interface AuthorizedMint {
  readonly cluster: RegisteredCluster;
  /** Empty only for an exec kubeconfig that names no identity (see {@link authorizeMint}). */
  readonly identity: string;
}

/**
 * PERMISSION_DENIED `NOT_GRANTED`. Its text depends on the request alone (the caller,
 * the RPC, the cluster id and the identity it named), never on what is configured,
 * so that a denial says nothing of which clusters exist, which identities exist, or
 * to whom they are given.
 */
export function notGranted(context: CallContext, rpc: GrantableRpc, clusterId?: string, identity = ""): ServiceError {
  const what = clusterId === undefined ? rpc : `${rpc} for cluster ${clusterId}`;
  return new ServiceError({
    reason: "NOT_GRANTED",
    message: `${context.principal.name} may not call ${what}${identity === "" ? "" : ` with identity ${identity}`}`,
    metadata: {
      principal: context.principal.name,
      rpc,
      ...(clusterId === undefined ? {} : { cluster_id: clusterId }),
      ...(identity === "" ? {} : { identity }),
    },
  });
}

/** FAILED_PRECONDITION `IDENTITY_REQUIRED`: the caller named no identity, and its grants give several; `choices` are its own. */
function identityRequired(clusterId: string, choices: readonly string[]): ServiceError {
  return new ServiceError({
    reason: "IDENTITY_REQUIRED",
    message: `your grants give several identities for cluster ${clusterId}; name one in identity: ${choices.join(", ")}`,
    metadata: { cluster_id: clusterId, identities: choices.join(",") },
  });
}

/**
 * Authorizes a minting call (GenerateToken, GetKubeconfig) and chooses its cloud
 * identity. It validates the id, checks that some grant could allow it with the
 * identity named (by the cluster id and the names grants give), then looks the
 * cluster up (asking the cloud accounts for an id no listing has found yet), then
 * checks the grants against the cluster itself (its labels, its provider) and
 * chooses the identity among those they give, in that order: a caller who could not
 * be granted the cluster, or the identity it named, gets PERMISSION_DENIED whether
 * or not either exists, and a caller no grant could allow, or who names an identity
 * no grant for that id could give, never makes the service ask a cloud. (A caller
 * whose label grant could select the id may make one lookup for it: its labels are
 * known only then.) `identity` is the request's, validated: empty when it names
 * none. A registered cluster is found without a promise, so the hot path stays
 * synchronous.
 *
 * `mintedBy` is the RPC that will mint with the identity, when this call mints
 * nothing itself: an exec kubeconfig's identity is used by kubectl through
 * GenerateToken, so it is chosen from the caller's GenerateToken grants, and this
 * call's own grant (`rpc`) need only select the cluster. The identity is then
 * recorded as `execIdentity`, never as one this call minted with. When the caller
 * names none and its GenerateToken grants give none (it fetches the kubeconfig for
 * another principal), the identity is empty: the kubeconfig names none.
 */
export function authorizeMint(
  { registry, policy }: { readonly registry: ClusterRegistry; readonly policy: AccessPolicy },
  { rpc, mintedBy = rpc }: { readonly rpc: GrantableRpc; readonly mintedBy?: GrantableRpc },
  clusterId: string,
  identity: string,
  context: CallContext,
  facts: AuditFacts,
): AuthorizedMint | Promise<AuthorizedMint> {
  const problem = clusterIdProblem(clusterId);
  if (problem) throw invalidArgument("cluster_id", "INVALID_CLUSTER_ID", `cluster_id ${problem}`);
  facts.clusterId = clusterId;
  // The identity a later call mints with (an exec kubeconfig's) is no identity this call mints with.
  const identityFact = mintedBy === rpc ? "identity" : "execIdentity";
  // A named identity is recorded on a denial too: a request value, checked to be a well-formed name.
  if (identity !== "") facts[identityFact] = identity;
  const principal = context.principal.name;
  const later = mintedBy !== rpc;
  if (!policy.mightAllow(principal, rpc, clusterId, later ? "" : identity)) throw notGranted(context, rpc, clusterId, identity);
  if (later && identity !== "" && !policy.mightAllow(principal, mintedBy, clusterId, identity))
    throw notGranted(context, mintedBy, clusterId, identity);
  const granted = (cluster: RegisteredCluster | undefined): AuthorizedMint => {
    if (!cluster) {
      if (!policy.revealsAbsence(principal, rpc, clusterId)) throw notGranted(context, rpc, clusterId, identity);
      throw new ServiceError({
        reason: "CLUSTER_NOT_FOUND",
        message: `cluster ${clusterId} is not registered`,
        metadata: { cluster_id: clusterId },
      });
    }
    if (later && !policy.allows(principal, rpc, cluster)) throw notGranted(context, rpc, clusterId, identity);
    const choice = policy.chooseIdentity(principal, mintedBy, cluster, identity);
    if (choice.kind === "denied") {
      // An exec kubeconfig may be for another principal (its exec_options name that one's key): a caller that names no
      // identity and has none of its own for GenerateToken gets one naming none, and kubectl's principal chooses by its grants.
      if (later && identity === "") {
        facts.provider = cluster.provider;
        return { cluster, identity: "" };
      }
      throw notGranted(context, mintedBy, clusterId, identity);
    }
    if (choice.kind === "required") throw identityRequired(clusterId, choice.choices);
    facts.provider = cluster.provider;
    facts[identityFact] = choice.identity;
    return { cluster, identity: choice.identity };
  };
  const cluster = registry.get(clusterId);
  return cluster ? granted(cluster) : registry.find(clusterId, context.signal).then(granted);
}

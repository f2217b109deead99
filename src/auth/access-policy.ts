import type { grantableRpcs } from "../config/security-schema.js";
import { globMatcher } from "./glob.js";
import { type CredentialProviders, type IdentityChoice, IdentityChooser, type IdentityTarget } from "./identity-choice.js";

/** An RPC a grant can allow. */
export type GrantableRpc = (typeof grantableRpcs)[number];

/** One `security.grants` entry. */
export interface Grant {
  principals: readonly string[];
  /** Cluster ids or globs; absent: any id (then `clusterLabels` selects). */
  clusters?: readonly string[] | undefined;
  /** Labels a cluster must have, every pair; absent: any labels. */
  clusterLabels?: Readonly<Record<string, string>> | undefined;
  rpcs: readonly (GrantableRpc | "*")[];
  /** Names of `credentials` entries the grant gives for minting; absent: the cluster's own credentials. */
  identities?: readonly string[] | undefined;
}

/** What a grant looks at in a cluster: its id and its labels. */
export interface GrantTarget {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface CompiledGrant {
  principal: (name: string) => boolean;
  /** True for every id when the grant names no cluster ids. */
  id: (id: string) => boolean;
  /** The label pairs a cluster must have; undefined when the grant selects by id alone. */
  labels: readonly (readonly [string, string])[] | undefined;
  rpcs: ReadonlySet<string>;
  /** The identities it gives, by provider (see {@link IdentityChooser}); undefined: the cluster's own credentials. */
  identities: ReadonlyMap<string, readonly string[]> | undefined;
}

const anyId = () => true;

function compile(g: Grant, credentials: CredentialProviders): CompiledGrant {
  const principals = g.principals.map(globMatcher);
  const clusters = g.clusters?.map(globMatcher);
  return {
    principal: (n) => principals.some((m) => m(n)),
    id: clusters ? (id) => clusters.some((m) => m(id)) : anyId,
    labels: g.clusterLabels && Object.entries(g.clusterLabels),
    rpcs: new Set(g.rpcs),
    identities: g.identities && IdentityChooser.byProvider(g.identities, credentials),
  };
}

/** True when `target` carries every pair of `labels`. */
export function hasLabels(labels: readonly (readonly [string, string])[], target: GrantTarget["labels"]): boolean {
  for (const [key, value] of labels) if (!Object.hasOwn(target, key) || target[key] !== value) return false;
  return true;
}

/**
 * Who may call which RPC for which clusters, and with which cloud identities. It
 * denies by default: a call is allowed only when some grant names the principal, the
 * RPC (or "*") and selects the cluster: by id (globs), by labels (every pair), or by
 * both when it names both. Principals and cluster ids in grants are globs. The
 * identities a minting call may use are those its selecting grants give (see
 * {@link AccessPolicy.chooseIdentity}).
 *
 * A label grant reaches every cluster that carries its labels, configured or
 * discovered: for a discovered cluster, whoever may tag clusters in its cloud
 * account decides what the grant reaches.
 */
export class AccessPolicy {
  private readonly identities: IdentityChooser;

  private constructor(
    private readonly grants: readonly CompiledGrant[] | "allow-all",
    credentials: CredentialProviders,
  ) {
    this.identities = new IdentityChooser(credentials);
  }

  /**
   * Allows everything: only for `insecurePlaintext` development. A minting call uses
   * its cluster's own credentials, or any `credentials` entry of the cluster's
   * provider that it names.
   */
  static allowAll(credentials: CredentialProviders = {}): AccessPolicy {
    return new AccessPolicy("allow-all", credentials);
  }

  /** The policy of `security.grants`; `credentials` says which provider each identity a grant names belongs to. */
  static fromGrants(grants: readonly Grant[], credentials: CredentialProviders = {}): AccessPolicy {
    return new AccessPolicy(
      grants.map((g) => compile(g, credentials)),
      credentials,
    );
  }

  /** Whether `principal` may call `rpc` for `cluster`. */
  allows(principal: string, rpc: GrantableRpc, cluster: GrantTarget): boolean {
    if (this.grants === "allow-all") return true;
    return this.grants.some((g) => selects(g, principal, rpc, cluster));
  }

  /**
   * The cloud identity a call of `principal` to `rpc` for `cluster` mints with, given
   * the `requested` one (empty: none named). The identities it may use are those the
   * grants that allow the call give, of the cluster's provider: a grant without
   * `identities` gives the cluster's own credentials. A named identity must be one of
   * them; otherwise the call is denied exactly as without a grant, so that nothing
   * tells a caller which identities exist or whom they are given to. Without a name,
   * the one identity is chosen, and several are listed for the caller to pick from,
   * never picked silently.
   */
  chooseIdentity(principal: string, rpc: GrantableRpc, cluster: IdentityTarget, requested: string): IdentityChoice {
    if (this.grants === "allow-all") return this.identities.anyOfProvider(cluster, requested);
    const given: (readonly string[])[] = [];
    for (const g of this.grants) {
      if (selects(g, principal, rpc, cluster))
        given.push(g.identities ? (g.identities.get(cluster.provider) ?? []) : [cluster.credentials]);
    }
    return this.identities.choose(given, requested);
  }

  /**
   * Whether some grant could let `principal` call `rpc` for a cluster with the id
   * `clusterId`, whatever its labels: checked before the cluster is looked up, so
   * that nobody without such a grant makes the service ask a cloud.
   */
  mightAllow(principal: string, rpc: GrantableRpc, clusterId: string): boolean {
    if (this.grants === "allow-all") return true;
    return this.grants.some((g) => (g.rpcs.has(rpc) || g.rpcs.has("*")) && g.principal(principal) && g.id(clusterId));
  }

  /**
   * Whether `principal` may be told that no cluster has the id `clusterId`: only when
   * a grant selects that id by id alone. A caller whose grants select by labels gets
   * PERMISSION_DENIED for a missing cluster as for a cluster with other labels, so
   * that existence never leaks to someone who could not be granted the cluster.
   */
  revealsAbsence(principal: string, rpc: GrantableRpc, clusterId: string): boolean {
    if (this.grants === "allow-all") return true;
    return this.grants.some(
      (g) => g.labels === undefined && (g.rpcs.has(rpc) || g.rpcs.has("*")) && g.principal(principal) && g.id(clusterId),
    );
  }

  /** Whether any grant lets `principal` call `rpc` at all. */
  allowsRpc(principal: string, rpc: GrantableRpc): boolean {
    if (this.grants === "allow-all") return true;
    return this.grants.some((g) => (g.rpcs.has(rpc) || g.rpcs.has("*")) && g.principal(principal));
  }
}

/** Whether grant `g` lets `principal` call `rpc` for `cluster`. */
function selects(g: CompiledGrant, principal: string, rpc: GrantableRpc, cluster: GrantTarget): boolean {
  return (
    (g.rpcs.has(rpc) || g.rpcs.has("*")) &&
    g.principal(principal) &&
    g.id(cluster.id) &&
    (g.labels === undefined || hasLabels(g.labels, cluster.labels))
  );
}

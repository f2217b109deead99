import type { grantableRpcs } from "../config/security-schema.js";
import { globMatcher } from "./glob.js";
import { type CredentialProviders, denied, type IdentityChoice, IdentityChooser, type IdentityTarget } from "./identity-choice.js";

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

/** Which clusters a grant selects: by id globs, by labels, or both. */
export interface ClusterSelection {
  /** True for every id when the grant names no cluster ids. */
  readonly id: (id: string) => boolean;
  /** The label pairs a cluster must have; undefined when the grant selects by id alone. */
  readonly labels: readonly (readonly [string, string])[] | undefined;
}

interface CompiledGrant extends ClusterSelection {
  principal: (name: string) => boolean;
  rpcs: ReadonlySet<string>;
  /** The identities it gives, by provider (see {@link IdentityChooser}); undefined: the cluster's own credentials. */
  identities: ReadonlyMap<string, readonly string[]> | undefined;
  /** Every identity it gives, of any provider; undefined: the cluster's own credentials. */
  identityNames: ReadonlySet<string> | undefined;
}

const anyId = () => true;

/**
 * The selection of a grant's `clusters` globs and `clusterLabels`: the one reading of
 * them, used by the policy and by config validation alike.
 */
export function clusterSelection(clusters: readonly string[] | undefined, labels: GrantTarget["labels"] | undefined): ClusterSelection {
  const matchers = clusters?.map(globMatcher);
  return {
    id: matchers ? (id) => matchers.some((m) => m(id)) : anyId,
    labels: labels && Object.entries(labels),
  };
}

/** Whether `selection` selects `cluster`: its id and every label pair. */
export function selectsCluster(selection: ClusterSelection, cluster: GrantTarget): boolean {
  return selection.id(cluster.id) && (selection.labels === undefined || hasLabels(selection.labels, cluster.labels));
}

function compile(g: Grant, credentials: CredentialProviders): CompiledGrant {
  const principals = g.principals.map(globMatcher);
  return {
    ...clusterSelection(g.clusters, g.clusterLabels),
    principal: (n) => principals.some((m) => m(n)),
    rpcs: new Set(g.rpcs),
    identities: g.identities && IdentityChooser.byProvider(g.identities, credentials),
    identityNames: g.identities && new Set(g.identities),
  };
}

/** True when `target` carries every pair of `labels`. */
function hasLabels(labels: readonly (readonly [string, string])[], target: GrantTarget["labels"]): boolean {
  for (const [key, value] of labels) if (!Object.hasOwn(target, key) || target[key] !== value) return false;
  return true;
}

/**
 * How many (RPC, principal) pairs a policy remembers its grants for. Principals are
 * authenticated names, but certificates and SPIFFE ids can make many of them; past
 * this, the oldest pair is forgotten and found again when it calls.
 */
export const maxRememberedCallers = 10_000;

const noGrants: readonly CompiledGrant[] = Object.freeze([]);

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
 *
 * Every decision reads only the grants that name the caller and the RPC, found once
 * per pair and remembered (at most {@link maxRememberedCallers} pairs), so that a
 * call costs what its own grants cost, not a test of every grant's principals. A
 * policy never changes: a reload builds a new one, so what it remembers never goes
 * stale.
 */
export class AccessPolicy {
  private readonly identities: IdentityChooser;
  private readonly byCaller = new Map<string, readonly CompiledGrant[]>();

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
    return this.grantsOf(principal, rpc).some((g) => selectsCluster(g, cluster));
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
    // The first grant's list serves alone (sorted and unique already); a second one starts a set.
    let first: readonly string[] | undefined;
    let union: Set<string> | undefined;
    for (const g of this.grantsOf(principal, rpc)) {
      if (!selectsCluster(g, cluster)) continue;
      if (requested !== "") {
        const gives = g.identities ? g.identities.get(cluster.provider)?.includes(requested) : requested === cluster.credentials;
        if (gives) return { kind: "chosen", identity: requested };
        continue;
      }
      const given = g.identities ? (g.identities.get(cluster.provider) ?? noNames) : [cluster.credentials];
      if (first === undefined) first = given;
      else {
        union ??= new Set(first);
        for (const name of given) union.add(name);
      }
    }
    if (requested !== "" || first === undefined) return denied;
    return IdentityChooser.among(union ? [...union].sort() : first);
  }

  /**
   * Whether some grant could let `principal` call `rpc` for a cluster with the id
   * `clusterId`, whatever its labels, with the identity `requested` (empty: none
   * named): checked before the cluster is looked up, so that nobody without such a
   * grant, or naming an identity no such grant could give, makes the service ask a
   * cloud. A grant without `identities` could give any `credentials` entry (the
   * cluster's own, unknown before the lookup), so a name that is none counts for no
   * grant.
   */
  mightAllow(principal: string, rpc: GrantableRpc, clusterId: string, requested = ""): boolean {
    if (this.grants === "allow-all") return requested === "" || this.identities.isEntry(requested);
    return this.grantsOf(principal, rpc).some(
      (g) =>
        g.id(clusterId) && (requested === "" || (g.identityNames ? g.identityNames.has(requested) : this.identities.isEntry(requested))),
    );
  }

  /**
   * Whether `principal` may be told that no cluster has the id `clusterId`: only when
   * a grant selects that id by id alone. A caller whose grants select by labels gets
   * PERMISSION_DENIED for a missing cluster as for a cluster with other labels, so
   * that existence never leaks to someone who could not be granted the cluster.
   */
  revealsAbsence(principal: string, rpc: GrantableRpc, clusterId: string): boolean {
    if (this.grants === "allow-all") return true;
    return this.grantsOf(principal, rpc).some((g) => g.labels === undefined && g.id(clusterId));
  }

  /** Whether any grant lets `principal` call `rpc` at all. */
  allowsRpc(principal: string, rpc: GrantableRpc): boolean {
    if (this.grants === "allow-all") return true;
    return this.grantsOf(principal, rpc).length > 0;
  }

  /** The grants that name `principal` and `rpc` (or "*"), in config order; remembered per pair, the oldest forgotten first. */
  private grantsOf(principal: string, rpc: GrantableRpc): readonly CompiledGrant[] {
    const key = `${rpc}\u0000${principal}`;
    const known = this.byCaller.get(key);
    if (known) return known;
    const grants = this.grants === "allow-all" ? noGrants : this.grants;
    const found = grants.filter((g) => (g.rpcs.has(rpc) || g.rpcs.has("*")) && g.principal(principal));
    if (this.byCaller.size >= maxRememberedCallers) this.byCaller.delete(this.byCaller.keys().next().value as string);
    const kept = found.length === 0 ? noGrants : found;
    this.byCaller.set(key, kept);
    return kept;
  }
}

const noNames: readonly string[] = Object.freeze([]);

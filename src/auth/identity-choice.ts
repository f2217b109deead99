/** Which provider each `credentials` entry belongs to, by name: the config's `credentials` satisfies it. */
export type CredentialProviders = Readonly<Record<string, { readonly provider: string }>>;

/** What choosing a cloud identity looks at in a cluster: what grants select by, its provider and its own credentials. */
export interface IdentityTarget {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly provider: string;
  /** The cluster's own `credentials` entry: the identity of a grant without `identities`. */
  readonly credentials: string;
}

/**
 * The outcome of choosing a cloud identity for a minting call: the identity to mint
 * with; a denial (no grant allows the call, or none gives the identity named), which
 * the caller gets exactly as a missing grant; or, when the caller named none and its
 * grants give several, the caller's own choices, sorted.
 */
export type IdentityChoice =
  | { readonly kind: "chosen"; readonly identity: string }
  | { readonly kind: "denied" }
  | { readonly kind: "required"; readonly choices: readonly string[] };

/** The denial: no grant allows the call, or none gives the identity it names. */
export const denied: IdentityChoice = Object.freeze({ kind: "denied" });

/**
 * Chooses the cloud identity of a minting call from what its grants give. An
 * identity is a `credentials` entry, and a call may use only the identities of its
 * cluster's provider, so that a grant may name identities of several clouds and each
 * cluster it selects uses its own cloud's.
 */
export class IdentityChooser {
  constructor(private readonly credentials: CredentialProviders) {}

  /**
   * A grant's `identities` by provider, each list sorted; names that are not entries
   * of `credentials` (config validation refuses them) give nothing.
   */
  static byProvider(names: readonly string[], credentials: CredentialProviders): Map<string, readonly string[]> {
    const byProvider = new Map<string, string[]>();
    for (const name of [...new Set(names)].sort()) {
      const provider = Object.hasOwn(credentials, name) ? credentials[name]?.provider : undefined;
      if (provider === undefined) continue;
      const list = byProvider.get(provider) ?? [];
      list.push(name);
      byProvider.set(provider, list);
    }
    return byProvider;
  }

  /** Whether `name` is a `credentials` entry: an identity some cluster could use. */
  isEntry(name: string): boolean {
    return Object.hasOwn(this.credentials, name);
  }

  /**
   * The choice when every identity of the cluster's provider is allowed (development
   * without grants): the cluster's own credentials unless the caller names another
   * entry of that provider.
   */
  anyOfProvider(cluster: IdentityTarget, requested: string): IdentityChoice {
    if (requested === "" || requested === cluster.credentials) return { kind: "chosen", identity: cluster.credentials };
    const entry = Object.hasOwn(this.credentials, requested) ? this.credentials[requested] : undefined;
    return entry?.provider === cluster.provider ? { kind: "chosen", identity: requested } : denied;
  }

  /**
   * The choice among `names`, the sorted and unique identities the grants that allow
   * the call give when the caller names none: the only one, or all of them for the
   * caller to choose from; none (no grant allows the call) is a denial.
   */
  static among(names: readonly string[]): IdentityChoice {
    if (names.length === 0) return denied;
    if (names.length === 1) return { kind: "chosen", identity: names[0] as string };
    return { kind: "required", choices: names };
  }
}

import type { grantableRpcs } from "../config/security-schema.js";
import { globMatcher } from "./glob.js";

/** An RPC a grant can allow. */
export type GrantableRpc = (typeof grantableRpcs)[number];

/** One `security.grants` entry. */
export interface Grant {
  principals: readonly string[];
  clusters: readonly string[];
  rpcs: readonly (GrantableRpc | "*")[];
}

interface CompiledGrant {
  principal: (name: string) => boolean;
  cluster: (id: string) => boolean;
  rpcs: ReadonlySet<string>;
}

/**
 * Who may call which RPC for which clusters. It denies by default: a call is allowed
 * only when some grant names the principal, the RPC (or "*") and the cluster id.
 * Principals and cluster ids in grants are globs.
 */
export class AccessPolicy {
  private constructor(private readonly grants: readonly CompiledGrant[] | "allow-all") {}

  /** Allows everything: only for `insecurePlaintext` development. */
  static allowAll(): AccessPolicy {
    return new AccessPolicy("allow-all");
  }

  /** The policy of `security.grants`. */
  static fromGrants(grants: readonly Grant[]): AccessPolicy {
    return new AccessPolicy(
      grants.map((g) => {
        const principals = g.principals.map(globMatcher);
        const clusters = g.clusters.map(globMatcher);
        return { principal: (n) => principals.some((m) => m(n)), cluster: (id) => clusters.some((m) => m(id)), rpcs: new Set(g.rpcs) };
      }),
    );
  }

  /** Whether `principal` may call `rpc` for the cluster `clusterId`, which need not exist. */
  allows(principal: string, rpc: GrantableRpc, clusterId: string): boolean {
    if (this.grants === "allow-all") return true;
    return this.grants.some((g) => (g.rpcs.has(rpc) || g.rpcs.has("*")) && g.principal(principal) && g.cluster(clusterId));
  }

  /** Whether any grant lets `principal` call `rpc` at all. */
  allowsRpc(principal: string, rpc: GrantableRpc): boolean {
    if (this.grants === "allow-all") return true;
    return this.grants.some((g) => (g.rpcs.has(rpc) || g.rpcs.has("*")) && g.principal(principal));
  }
}

import type { z } from "zod";
import type { AccountBase, accountBase } from "../config/schema-parts.js";

/**
 * One cluster as a cloud's list API reports it: what the core needs to register it
 * under an id of its account, and to mint for it.
 */
export interface ListedCluster {
  /**
   * The provider's own keys of a `clusters` entry for this cluster (aws: `region`,
   * `name`; gcp: `project`, `region`, `name`; azure: `subscriptionId`,
   * `resourceGroup`, `name`, `region`; ncp: `region`, `uuid`, `name`; alibaba:
   * `region`, `clusterId`, `name`), plus `endpoint` and `certificateAuthorityData`
   * when the listing carries them. The core adds `id`, `provider`, `credentials`,
   * `labels` and `apiEndpoint`, and validates the result with the provider's cluster
   * schema, so a cluster the schema refuses is reported and skipped.
   */
  readonly entry: Readonly<Record<string, unknown>>;
  /** The cluster's name in its cloud: `{name}` of an id template. */
  readonly name: string;
  /** The region or location the cloud reports for it: `{region}` of an id template. */
  readonly region: string;
  /** The cloud's tags (labels on GKE), as reported; the core sanitizes and bounds them. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The "list the clusters of an account" capability, built by a provider's `create`
 * with the same credential sources as its token driver. Failures are ServiceErrors
 * with portable codes and no secret, as for every driver.
 */
export interface ClusterLister<A extends AccountBase = AccountBase> {
  /**
   * Every cluster of one scope that matches the account's filter, following every
   * page. It resolves only with a complete listing: an error on any page, a partial
   * answer (such as GKE's `missingZones`), a refusal or a timeout rejects, so that a
   * failed listing can never read as "no clusters". Every request is one bounded
   * attempt that stops when `signal` aborts.
   */
  listScope(account: A, scope: string, signal: AbortSignal): Promise<readonly ListedCluster[]>;
  /**
   * One cluster, by the name and region an id was made from: a freshly created
   * cluster is tokenable before the next poll. Resolves undefined when the cloud says
   * it does not exist or it does not match the account's filter; one or a few bounded
   * requests, never a full listing of a large scope where the cloud has a get.
   */
  lookup(account: A, name: string, region: string, signal: AbortSignal): Promise<ListedCluster | undefined>;
}

/** What a provider module declares when its clouds' accounts can be discovered. */
export interface ProviderDiscovery<AccountSchema extends z.ZodObject<typeof accountBase & { provider: z.ZodLiteral<string> }>> {
  /** An `accounts` entry of this provider: `accountBase` plus the keys of its scopes. */
  readonly accountSchema: AccountSchema;
  /** What the cloud calls the pairs an account's `tags` filter matches, for docs and messages. */
  readonly filterKey: "tags" | "labels";
  /**
   * The scopes of an account, each listed and reconciled on its own: a region
   * (aws, ncp, alibaba), a project and location (gcp), a subscription or a resource
   * group (azure). A scope that fails keeps its last known clusters.
   */
  scopes(account: z.output<AccountSchema>): readonly string[];
  /**
   * The regions (or locations) an account's clusters can be in, as the cloud spells
   * them, when its config names them; undefined when any region the cloud reports is
   * possible (a project listed at every location, a subscription). An id asked for
   * before a poll found it is then looked up only in one of these, its region
   * spelled as the cloud does, and an id of another region costs no lookup. Absent:
   * any region-shaped part of an id is passed to `lookup` as the id spells it, and
   * the lister keeps to the account's scopes itself.
   */
  regions?(account: z.output<AccountSchema>): readonly string[] | undefined;
}

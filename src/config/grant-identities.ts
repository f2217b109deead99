import type { z } from "zod";
import { clusterSelection, selectsCluster } from "../auth/access-policy.js";
import { globMayMatch, type IdShapePart } from "../auth/glob-may-match.js";
import { isIdentityName } from "../core/identity-name.js";
import { defaultIdTemplate, pieces } from "../discovery/id-template-rules.js";

/** What the check reads of a grant; the grant's own schema has validated (or reported) each field. */
interface GrantEntry {
  readonly clusters?: readonly string[] | undefined;
  readonly clusterLabels?: Readonly<Record<string, string>> | undefined;
  readonly identities?: readonly string[] | undefined;
}

/** What the check reads of a `clusters` entry. */
interface ClusterEntry {
  readonly id: string;
  readonly provider: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** What the check reads of an `accounts` entry. */
interface AccountEntry {
  readonly id: string;
  readonly provider: string;
  readonly idTemplate?: string;
}

/**
 * The shape of every id `account` can give a discovered cluster: its template's
 * literal runs and account id as they are, its name and region as runs of id
 * characters. A template the config refuses (reported on its own) may make anything.
 */
function idShape(account: AccountEntry): IdShapePart[] {
  const parsed = pieces(account.idTemplate ?? defaultIdTemplate);
  if (typeof parsed === "string") return ["run"];
  // Account ids are already spelled as ids ([a-z0-9-]), so the template renders them as they are.
  return parsed.map((piece) => {
    if ("literal" in piece) return piece;
    return piece.placeholder === "account" ? { literal: account.id } : "run";
  });
}

/**
 * The providers of the clusters `grant` can select: the configured clusters its id
 * globs and labels select, and the accounts whose discovered ids its globs could
 * match (by id only: a discovered cluster's labels are its cloud's tags, which the
 * config cannot know).
 */
function selectableProviders(grant: GrantEntry, clusters: readonly ClusterEntry[], accounts: readonly AccountEntry[]): Set<string> {
  const providers = new Set<string>();
  const globs = Array.isArray(grant.clusters) ? grant.clusters.filter((glob) => typeof glob === "string") : undefined;
  // The policy's own reading of the grant, so that validation selects what calls will.
  const selection = clusterSelection(globs, grant.clusterLabels);
  for (const cluster of clusters) {
    if (selectsCluster(selection, { id: cluster.id, labels: cluster.labels ?? {} })) providers.add(cluster.provider);
  }
  for (const account of accounts) {
    if (providers.has(account.provider)) continue;
    const shape = idShape(account);
    if (!globs || globs.some((glob) => globMayMatch(glob, shape))) providers.add(account.provider);
  }
  return providers;
}

/**
 * Checks each grant's `identities` against the rest of the config, reporting every
 * problem at once: each must name a `credentials` entry, of the provider of some
 * cluster the grant can select (a configured cluster it selects, or an account whose
 * discovered ids it could match). A grant may name identities of several providers;
 * a call uses those of its cluster's provider, so an identity no selectable cluster
 * could use is a mistake in the config, named here, rather than a silent no-op.
 */
export function checkGrantIdentities(
  grants: readonly unknown[],
  credentials: Readonly<Record<string, { provider?: unknown } | undefined>>,
  clusters: readonly ClusterEntry[],
  accounts: readonly AccountEntry[],
  ctx: z.RefinementCtx,
): void {
  grants.forEach((entry, index) => {
    if (typeof entry !== "object" || entry === null) return;
    const grant = entry as GrantEntry;
    if (!Array.isArray(grant.identities)) return;
    let providers: Set<string> | undefined;
    grant.identities.forEach((name, k) => {
      // A malformed name is reported by the grant's own schema, which never echoes it.
      if (typeof name !== "string" || !isIdentityName(name)) return;
      const issue = (message: string) =>
        ctx.addIssue({ code: "custom", input: name, path: ["security", "grants", index, "identities", k], message });
      const credential = Object.hasOwn(credentials, name) ? credentials[name] : undefined;
      if (!credential) {
        issue(`names "${name}", which is not an entry of credentials`);
        return;
      }
      providers ??= selectableProviders(grant, clusters, accounts);
      if (providers.has(String(credential.provider))) return;
      const selected = providers.size === 0 ? "no cluster" : `only ${[...providers].sort().join(" and ")} clusters`;
      issue(
        `names "${name}", a credential of provider ${String(credential.provider)}, but the grant selects ${selected}; a cluster's identities are credentials of its own provider`,
      );
    });
  });
}

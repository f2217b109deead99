import { hash } from "node:crypto";
import type { z } from "zod";
import type { AccountBase } from "../config/schema-parts.js";
import { clusterIdProblem } from "../core/cluster-id.js";
import type { RegisteredCluster } from "../core/registered-cluster.js";
import type { ListedCluster } from "../drivers/cluster-lister.js";
import { matchesFilter } from "../drivers/listing-parts.js";
import { sanitizeLabels } from "./cluster-labels.js";
import type { IdTemplate } from "./id-template.js";

/**
 * Why a listed cluster was not registered. Each is reported (a log line when it
 * first happens, a metric), never merged into another cluster and never a crash.
 */
export type SkipReason =
  /** The template made an id that is too long or not an id. */
  | "invalid_id"
  /** A `clusters` entry has the id: the configured cluster wins. */
  | "static_id"
  /** Another discovered cluster (another account, scope, or the same listing) has the id. */
  | "id_collision"
  /** The provider's cluster schema refused what the listing said of it. */
  | "refused_by_schema"
  /** The account already has `maxClusters` clusters. */
  | "over_cap";

/** The account a listing belongs to, as admission needs it. */
export interface AdmissionContext {
  readonly account: AccountBase;
  readonly template: IdTemplate;
  /** The provider's `clusters` entry schema: a discovered cluster must pass it like a configured one. */
  readonly clusterSchema: z.ZodType;
  /** Changes whenever the account's entry or credentials change, so that nothing admitted before is reused. */
  readonly generation: number;
}

/** A listed cluster ready to register, and what it was made from. */
export interface Candidate {
  readonly id: string;
  readonly cluster: RegisteredCluster;
  /** Identifies what the listing said of it (and the account's generation): the same next time means nothing to check again. */
  readonly fingerprint: string;
  /** How many of its tags were not kept as labels. */
  readonly labelsDropped: number;
}

/** A listed cluster that cannot be registered, and why, for the report. */
export interface Refusal {
  readonly id: string;
  readonly reason: SkipReason;
  /** What is wrong, without any value from the listing but the id. */
  readonly detail: string;
}

/**
 * A listed cluster as a registered one: undefined when its tags do not match the
 * account's filter (the lister should have left it out); otherwise its id by the
 * account's template, its tags sanitized into labels, and its entry completed with
 * `id`, `provider`, `credentials`, `labels` and `apiEndpoint` and validated by its
 * provider's cluster schema, or why it cannot be. `previous`, the cluster known
 * under the same id, is reused as it is when the listing says the same of it.
 */
export function admit(
  listed: ListedCluster,
  context: AdmissionContext,
  previous?: { readonly fingerprint: string; readonly cluster: RegisteredCluster },
): Candidate | Refusal | undefined {
  const { account, template, clusterSchema, generation } = context;
  // The lister should have left it out; the core checks again, so that the cloud's filter and the service's agree.
  if (!matchesFilter(listed.labels, account.tags)) return undefined;
  const id = template.render(listed.name, listed.region);
  const problem = clusterIdProblem(id);
  if (problem) return { id, reason: "invalid_id", detail: `the id ${problem}` };
  const fingerprint = hash(
    "sha1",
    `${generation}\u0000${JSON.stringify([listed.entry, listed.name, listed.region, listed.labels])}`,
    "base64",
  );
  const { labels, dropped } = sanitizeLabels(listed.labels);
  if (previous?.fingerprint === fingerprint) return { id, cluster: previous.cluster, fingerprint, labelsDropped: dropped };
  const result = clusterSchema.safeParse({
    ...listed.entry,
    id,
    provider: account.provider,
    credentials: account.credentials,
    labels,
    ...(account.apiEndpoint === undefined ? {} : { apiEndpoint: account.apiEndpoint }),
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.map(String).join(".") || "(entry)";
    return { id, reason: "refused_by_schema", detail: `${where}: ${issue?.message ?? "refused"}` };
  }
  // The provider's schema validated it, so it is that provider's registered cluster.
  return { id, cluster: Object.freeze(result.data) as RegisteredCluster, fingerprint, labelsDropped: dropped };
}

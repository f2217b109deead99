import { ServiceError } from "../errors/service-error.js";

/**
 * What names a `credentials` entry: a registered cluster (its token and discovery
 * calls), or an `accounts` entry (its listings and lookups). Both carry an id, their
 * provider and the entry's name; an account also has an id template, which is how
 * the two are told apart in errors.
 */
export interface CredentialUser {
  readonly id: string;
  readonly provider: string;
  readonly credentials: string;
}

/** True for an `accounts` entry, false for a cluster: only accounts have an id template. */
export function isAccount(user: CredentialUser): boolean {
  return "idTemplate" in user;
}

/**
 * The ErrorInfo metadata that names `user`: `account_id` for an account, `cluster_id`
 * for a cluster, so that an operator knows which config entry a failure is about.
 */
export function credentialUserMetadata(user: CredentialUser): Record<string, string> {
  return isAccount(user) ? { account_id: user.id } : { cluster_id: user.id };
}

/**
 * The credential entry (or what a driver built from it) that `user` names, a
 * cluster or an account (told apart as {@link isAccount} does, unless `kind` says).
 * Config validation makes a miss impossible; a miss is still a typed
 * FAILED_PRECONDITION rather than a crash.
 */
export function credentialEntryFor<T>(entries: ReadonlyMap<string, T>, user: CredentialUser, kind?: "cluster" | "account"): T {
  const entry = entries.get(user.credentials);
  if (entry !== undefined) return entry;
  const account = kind === undefined ? isAccount(user) : kind === "account";
  throw new ServiceError({
    reason: "CREDENTIALS_NOT_CONFIGURED",
    message: `${account ? "account" : "cluster"} ${user.id} names credentials "${user.credentials}", which are not configured for ${user.provider}`,
    metadata: { [account ? "account_id" : "cluster_id"]: user.id, provider: user.provider },
  });
}

import { z } from "zod";
import type { ProviderSchemas } from "./config-schema.js";
import { type AccountBase, credentialsReferenceProblem, nonEmpty } from "./schema-parts.js";

/**
 * The `accounts` entries of the providers that declare discovery, by `provider`; an
 * entry is refused with a clear message when no listed provider can discover.
 */
function accountUnion(providers: readonly ProviderSchemas[]): z.ZodType<AccountBase> {
  const discovering = providers.flatMap((p) => (p.discovery ? [p.discovery.accountSchema] : []));
  const names = providers.flatMap((p) => (p.discovery ? [p.name] : [])).join(", ");
  if (discovering.length === 0) return z.never({ error: "no provider of this build can discover clusters; register them under clusters" });
  return z.discriminatedUnion("provider", nonEmpty(discovering), {
    error: (issue) =>
      issue.code === "invalid_union" && "discriminator" in issue
        ? `provider must be one whose accounts can be discovered: ${names}`
        : undefined,
  });
}

/**
 * The checks across `accounts` entries, all reported at once: unique ids, and
 * credentials of the account's own provider (`providers`: the names a credentials
 * entry may give, and those an account may; any other has a problem of its own).
 */
export function checkAccounts(
  accounts: readonly AccountBase[],
  credentials: Readonly<Record<string, { provider?: unknown } | undefined>>,
  ctx: z.RefinementCtx,
  providers: { readonly known: ReadonlySet<string>; readonly discovering: ReadonlySet<string> },
): void {
  const seen = new Map<string, number>();
  accounts.forEach((account, index) => {
    if (typeof account !== "object" || account === null) return;
    const issue = (key: string, input: unknown, message: string) =>
      ctx.addIssue({ code: "custom", input, path: ["accounts", index, key], message });
    const first = seen.get(account.id);
    if (typeof account.id === "string" && first !== undefined) issue("id", account.id, `duplicates accounts[${first}].id "${account.id}"`);
    else seen.set(account.id, index);
    const problem = credentialsReferenceProblem(account, "account", credentials, providers.discovering, providers.known);
    if (problem) issue("credentials", account.credentials, problem);
  });
}

/** The `accounts` list: empty by default; the config needs clusters or accounts. */
export function accountsSchema(providers: readonly ProviderSchemas[]) {
  return z.array(accountUnion(providers)).default([]);
}

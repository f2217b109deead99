import type { ExecOptions } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { ServiceError } from "../errors/service-error.js";
import type { KubeconfigUser } from "./kubeconfig.js";
import type { AuthorizedMint } from "./authorized-mint.js";
import { invalidArgument } from "./request-checks.js";

/** How exec kubeconfigs call back into this service. */
export interface ExecSettings {
  /** The Connect listener's URL as clients reach it. */
  publicUrl?: string;
  /** The command and its leading arguments, e.g. ["cluster-token"]. */
  command: readonly string[];
}

/** Flags of `cluster-token credential` from ExecOptions: absolute paths and an env name, validated. @throws INVALID_ARGUMENT */
export function execOptionFlags(options: ExecOptions | undefined, execMode: boolean): string[] {
  if (!options) return [];
  const { caFile, certFile, keyFile, apiKeyFile, apiKeyEnv } = options;
  const set = [caFile, certFile, keyFile, apiKeyFile, apiKeyEnv].some((v) => v !== "");
  if (!set) return [];
  if (!execMode) throw invalidArgument("exec_options", "EXEC_OPTIONS_WITHOUT_EXEC", "exec_options apply only to KUBECONFIG_MODE_EXEC");
  const flags: string[] = [];
  const path = (field: string, flag: string, value: string) => {
    if (value === "") return;
    if (!/^\/[^\0\n\r]{0,4095}$/.test(value))
      throw invalidArgument(`exec_options.${field}`, "INVALID_EXEC_OPTION", `exec_options.${field} must be an absolute path`);
    flags.push(flag, value);
  };
  path("ca_file", "--ca-file", caFile);
  path("cert_file", "--cert-file", certFile);
  path("key_file", "--key-file", keyFile);
  if ((certFile === "") !== (keyFile === ""))
    throw invalidArgument("exec_options.key_file", "INVALID_EXEC_OPTION", "exec_options.cert_file and key_file go together");
  if (apiKeyFile !== "" && apiKeyEnv !== "")
    throw invalidArgument(
      "exec_options.api_key_env",
      "INVALID_EXEC_OPTION",
      "set at most one of exec_options.api_key_file and api_key_env",
    );
  path("api_key_file", "--api-key-file", apiKeyFile);
  if (apiKeyEnv !== "") {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(apiKeyEnv))
      throw invalidArgument(
        "exec_options.api_key_env",
        "INVALID_EXEC_OPTION",
        "exec_options.api_key_env must be an environment variable name",
      );
    flags.push("--api-key-env", apiKeyEnv);
  }
  return flags;
}

/**
 * The user entry of an exec kubeconfig: `cluster-token credential` for `cluster` as
 * `identity`, calling this service at `publicUrl`. The identity chosen for this
 * kubeconfig is written out (`--identity`), so that kubectl keeps getting tokens of
 * the same one even when the caller's grants later give several. It is the name of a
 * `credentials` entry, which may begin with "-", so it is written joined to its flag
 * (`--identity=NAME`): apart, a strict argument parser would take it for an option.
 * Without one (empty `identity`), kubectl's principal gets what its own grants give.
 * @throws FAILED_PRECONDITION without `publicUrl`.
 */
export function execUser(
  { publicUrl, command }: ExecSettings,
  { cluster, identity }: AuthorizedMint,
  flags: readonly string[],
): KubeconfigUser {
  if (!publicUrl) {
    throw new ServiceError({
      reason: "EXEC_NOT_CONFIGURED",
      message: "exec kubeconfigs need publicUrl in the service's config: the URL clients use to reach this service",
      metadata: { cluster_id: cluster.id },
    });
  }
  const [program = "cluster-token", ...leading] = command;
  const named = identity === "" ? [] : [`--identity=${identity}`];
  const args = [...leading, "credential", "--cluster", cluster.id, ...named, "--server", publicUrl, ...flags];
  return { exec: { command: program, args } };
}

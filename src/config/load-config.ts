import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
import { configProblems } from "./config-problems.js";
import { buildConfigSchema, type ConfigSchema, type ProviderSchemas, type ServiceConfig } from "./config-schema.js";
import { anchorSecretRef, isSecretRef } from "./secret-ref.js";
import { readSettledFile, type SettleOptions, UnsettledFileError } from "./settled-file.js";

/** The environment variable that names the config file when `--config` is not given. */
export const configEnvVar = "CLUSTER_TOKEN_CONFIG";

/** The config used when neither `--config` nor `CLUSTER_TOKEN_CONFIG` names one: local development only. */
export const embeddedConfigPath = fileURLToPath(new URL("../../../config/default.yaml", import.meta.url));

/**
 * A config that cannot be used. `problems` holds one line per problem, each naming
 * the offending key, e.g. `clusters[0].region: is required`. `path` is the config
 * file, when the problems are in it; the TLS files a config names are checked apart
 * from it (`server/tls-material.ts`), and their problems name their own keys and files.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly path: string | undefined,
    readonly problems: readonly string[],
  ) {
    super(`invalid config${path === undefined ? "" : ` ${path}`}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** A loaded config and where it came from. */
export interface LoadedConfig {
  config: ServiceConfig;
  /** The absolute path of the file that was read. */
  path: string;
  /** True when the embedded development config was used. */
  embedded: boolean;
}

/**
 * Chooses the config file: the explicit path, else `CLUSTER_TOKEN_CONFIG`, else the
 * embedded default.
 */
export function chooseConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string; embedded: boolean } {
  const named = explicit ?? (env[configEnvVar] || undefined);
  return named ? { path: resolve(named), embedded: false } : { path: embeddedConfigPath, embedded: true };
}

/**
 * Reads, parses and validates a config file for a service serving `providers` (the
 * provider list, passed in by the composition root), and anchors relative
 * `{ file }` secret references at the file's directory.
 *
 * @throws ConfigError naming every offending key and why.
 */
export async function loadConfig(
  providers: readonly ProviderSchemas[],
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const { path, embedded } = chooseConfigPath(explicit, env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw unreadable(path, err);
  }
  return { config: parseConfig(providers, text, path), path, embedded };
}

/** The schema of each provider list, built once: a reload validates with the same one. */
const schemas = new WeakMap<readonly ProviderSchemas[], ConfigSchema>();

/**
 * Reads the config file again for a reload, once its content has settled (see
 * {@link readSettledFile}: a file caught half written is never applied), then
 * parses and validates it for `providers` as at start-up.
 *
 * @throws ConfigError naming every offending key, or why the file could not be read
 *   or never settled; the abort reason of `settle.signal` when the wait is abandoned.
 */
export async function reloadConfig(
  providers: readonly ProviderSchemas[],
  path: string,
  settle: SettleOptions = {},
): Promise<ServiceConfig> {
  let text: string;
  try {
    text = await readSettledFile(path, settle);
  } catch (err) {
    if (err instanceof UnsettledFileError) throw new ConfigError(path, [err.message]);
    if (settle.signal?.aborted) throw err;
    throw unreadable(path, err);
  }
  return parseConfig(providers, text, path);
}

function unreadable(path: string, err: unknown): ConfigError {
  return new ConfigError(path, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
}

/**
 * Parses and validates config text for a service serving `providers`. `path` names
 * the file in errors and anchors relative secret files.
 *
 * @throws ConfigError naming every offending key and why.
 */
export function parseConfig(providers: readonly ProviderSchemas[], text: string, path: string): ServiceConfig {
  let raw: unknown;
  try {
    // js-yaml rather than the `yaml` package used elsewhere: it builds plain values without a document model,
    // about four times faster and with a fraction of the garbage, which is most of start-up at 10,000 clusters.
    raw = loadYaml(text, { schema: CORE_SCHEMA });
  } catch (err) {
    // The first line only: the rest is a snippet of the file, which could hold a secret written inline by mistake.
    throw new ConfigError(path, [`YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  let schema = schemas.get(providers);
  if (!schema) {
    schema = buildConfigSchema(providers);
    schemas.set(providers, schema);
  }
  const result = schema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => configProblems(issue, schema));
    throw new ConfigError(path, problems);
  }
  return anchorFiles(result.data, dirname(path));
}

/** Makes every relative path in the config (secret files, TLS files, the audit file) relative to the config's directory. */
function anchorFiles(config: ServiceConfig, configDir: string): ServiceConfig {
  const anchorEntry = <T extends object>(entry: T): T =>
    Object.fromEntries(
      Object.entries(entry).map(([key, value]) => [key, isSecretRef(value) ? anchorSecretRef(value, configDir) : value]),
    ) as T;
  const credentials = Object.fromEntries(Object.entries(config.credentials).map(([name, entry]) => [name, anchorEntry(entry)]));
  const path = (file: string) => resolve(configDir, file);
  const { tls } = config.security;
  const security = tls
    ? {
        ...config.security,
        tls: {
          certFile: path(tls.certFile),
          keyFile: path(tls.keyFile),
          ...(tls.clientCaFile ? { clientCaFile: path(tls.clientCaFile) } : {}),
        },
      }
    : config.security;
  return { ...config, credentials, security, audit: { ...config.audit, ...(config.audit.file ? { file: path(config.audit.file) } : {}) } };
}

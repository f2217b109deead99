import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultExecCredentialApiVersion, execCredentialApiVersions } from "../core/exec-credential.js";
import { usageOf } from "./command-usage.js";
import cache from "./credential-cache.cjs";

/** A failure with a message a person can act on; exits 1. */
class CredentialError extends Error {}

/**
 * The ExecCredential apiVersion kubectl asks for in KUBERNETES_EXEC_INFO, or the
 * default when run outside kubectl.
 */
export function execInfoApiVersion(raw: string | undefined): string {
  if (raw === undefined || raw === "") return defaultExecCredentialApiVersion;
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch {
    throw new CredentialError(
      "KUBERNETES_EXEC_INFO is not valid JSON; kubectl sets it to an ExecCredential, so unset it when running this command by hand",
    );
  }
  const apiVersion = (info as { apiVersion?: unknown } | null)?.apiVersion;
  if (typeof apiVersion !== "string" || !execCredentialApiVersions.includes(apiVersion)) {
    throw new CredentialError(
      `KUBERNETES_EXEC_INFO asks for apiVersion ${JSON.stringify(apiVersion)}; supported: ${execCredentialApiVersions.join(", ")}`,
    );
  }
  return apiVersion;
}

const networkHints: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host lookup failed",
  ETIMEDOUT: "no answer in time",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
};

function explainFailure(code: string, message: string, cluster: string, server: string): string {
  switch (code) {
    case "not_found":
      return `cluster "${cluster}" is not registered at ${server} (${message}); list the registered clusters with ListClusters`;
    case "permission_denied":
      return `you may not get credentials for cluster "${cluster}" from ${server} (${message}); ask for a grant`;
    case "unauthenticated":
      return `${server} did not accept this client's identity (${message}); check the client certificate or API key`;
    case "invalid_argument":
      return `${server} rejected the request for cluster "${cluster}": ${message}`;
    default:
      return `getting a token for cluster "${cluster}" from ${server} failed: ${code}: ${message}`;
  }
}

function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CredentialError(`cannot read ${flag} ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function envApiKey(name: string): string {
  const key = process.env[name]?.trim();
  if (!key) throw new CredentialError(`--api-key-env names ${name}, which is not set`);
  return key;
}

/**
 * `cluster-token credential`: the kubectl credential plugin. It asks the service for
 * a token for one cluster and prints the ExecCredential on stdout, in the apiVersion
 * kubectl asked for. Errors go to stderr with exit code 1 (2 for usage), and never
 * contain a token.
 */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: cache.credentialOptions,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`cluster-token credential: ${(err as Error).message}\n\n${usageOf("credential")}`);
    return 2;
  }
  const { cluster, server } = values;
  const timeoutS = Number(values.timeout);
  let usageProblem: string | undefined;
  if (!cluster || !server || !/^https?:\/\/[^/]/.test(server) || !(timeoutS > 0 && timeoutS <= 300)) {
    usageProblem = "--cluster and an http(s) --server are required, and --timeout is 1 to 300 seconds";
  } else if ((values["cert-file"] === undefined) !== (values["key-file"] === undefined)) {
    usageProblem = "--cert-file and --key-file go together";
  } else if (values["api-key-file"] !== undefined && values["api-key-env"] !== undefined) {
    usageProblem = "give at most one of --api-key-file and --api-key-env";
  }
  if (usageProblem || !cluster || !server) {
    process.stderr.write(`cluster-token credential: ${usageProblem}\n\n${usageOf("credential")}`);
    return 2;
  }
  try {
    const apiVersion = execInfoApiVersion(process.env.KUBERNETES_EXEC_INFO);
    const tls = {
      ...(values["ca-file"] ? { ca: readFlagFile("--ca-file", values["ca-file"]) } : {}),
      ...(values["cert-file"] ? { cert: readFlagFile("--cert-file", values["cert-file"]) } : {}),
      ...(values["key-file"] ? { key: readFlagFile("--key-file", values["key-file"]) } : {}),
    };
    let apiKey: string | undefined;
    if (values["api-key-file"]) apiKey = readFlagFile("--api-key-file", values["api-key-file"]).toString("utf8").trim();
    else if (values["api-key-env"]) apiKey = envApiKey(values["api-key-env"]);
    const cacheDir = values["no-cache"] ? undefined : cache.credentialCacheDir();
    const identity = values.identity ?? "";
    const cacheKey = { server, cluster, apiVersion, identity: cache.callerIdentity({ apiKey, cert: tls.cert }), cloudIdentity: identity };
    const cached = cacheDir === undefined ? undefined : cache.readCachedCredential(cacheDir, cacheKey);
    if (cached !== undefined) {
      process.stdout.write(`${cached}\n`);
      return 0;
    }
    // Loaded only on a cache miss: a cached run needs no HTTP stack.
    const { callUnary } = await import("./connect-unary.js");
    let result;
    try {
      result = await callUnary({
        baseUrl: server,
        procedure: "clustertoken.v1.ClusterTokenService/GenerateToken",
        body: { clusterId: cluster, apiVersion, ...(identity ? { identity } : {}) },
        timeoutMs: timeoutS * 1000,
        ...(apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {}),
        tls,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ALERT/i.test(code) || /certificate|handshake|alert/i.test((err as Error).message)) {
        throw new CredentialError(
          `the TLS connection to ${server} failed (${code || (err as Error).message}); check --ca-file, and --cert-file/--key-file when the service requires client certificates`,
        );
      }
      throw new CredentialError(
        `cannot reach cluster-token-service at ${server}: ${networkHints[code] ?? (err as Error).message} (${code || "error"}); check --server and that the service is running`,
      );
    }
    if (!result.ok) throw new CredentialError(explainFailure(result.code, result.message, cluster, server));
    const credential = result.json as { kind?: unknown; status?: { token?: unknown } };
    if (credential?.kind !== "ExecCredential" || typeof credential.status?.token !== "string") {
      throw new CredentialError(`${server} did not answer with an ExecCredential; is --server a cluster-token-service?`);
    }
    if (cacheDir !== undefined) cache.writeCachedCredential(cacheDir, cacheKey, result.text);
    process.stdout.write(`${result.text}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof CredentialError)) throw err;
    process.stderr.write(`cluster-token: ${err.message}\n`);
    return 1;
  }
}

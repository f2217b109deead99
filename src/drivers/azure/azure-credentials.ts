import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { describeSecretRef, resolveSecret, type SecretRef } from "../../config/secret-ref.js";
import { TtlCache } from "../../core/ttl-cache.js";
import { ServiceError } from "../../errors/service-error.js";
import { sharedLookupError, upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { credentialEntryFor } from "../credential-entry.js";
import type { MintedToken } from "../driver.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import type { AzureCluster, AzureCredentialConfig } from "./azure-config.js";
import { EntraNetwork, withEntraAttempt } from "./entra-network.js";

/** Managed-identity tokens are reused until this long before they expire. */
const renewBeforeMs = 5 * 60_000;

/**
 * Entra ID access tokens for each Azure credential entry, by scope. The client
 * secret, client certificate and workload identity sources go through MSAL's
 * client-credentials grant (@azure/msal-node), one application per entry and
 * credential material, so MSAL's token cache serves repeated requests; a changed
 * secret or certificate file builds a new one. Managed identities ask IMDS.
 */
export class AzureTokens {
  private readonly apps = new Map<string, { material: string; app: ConfidentialClientApplication }>();
  private readonly imdsTokens: TtlCache<string, MintedToken>;
  private readonly networks = new Map<string, EntraNetwork>();

  constructor(
    private readonly entries: ReadonlyMap<string, AzureCredentialConfig>,
    private readonly upstreamTimeoutMs: number,
  ) {
    this.imdsTokens = new TtlCache({ maxEntries: Math.max(4, entries.size * 4), attemptTimeoutMs: upstreamTimeoutMs });
  }

  /** An access token of `cluster`'s credential for `scope` (e.g. `<app id>/.default`). */
  async tokenFor(cluster: AzureCluster, scope: string, signal: AbortSignal): Promise<MintedToken> {
    const entry = credentialEntryFor(this.entries, cluster);
    const call: UpstreamCall = { provider: "azure", operation: "entra:token", metadata: { cluster_id: cluster.id } };
    if (entry.source === "managedIdentity") {
      const resource = scope.replace(/\/\.default$/, "");
      try {
        return await this.imdsTokens.get(`${cluster.credentials}\u0000${resource}`, signal, async (attempt) => {
          const minted = await this.imds(entry, resource, attempt, call);
          return { value: minted, expiresAt: minted.expiresAt.getTime() - renewBeforeMs };
        });
      } catch (err) {
        throw sharedLookupError(err, signal, call);
      }
    }
    const app = await this.appFor(cluster.credentials, entry);
    const result = await withEntraAttempt(call, signal, () => app.acquireTokenByClientCredential({ scopes: [scope] }));
    if (!result?.accessToken || !result.expiresOn) throw upstreamBadResponse(call, new Error("Entra ID returned no access token"));
    return { token: result.accessToken, expiresAt: result.expiresOn };
  }

  /** The MSAL application of an entry, rebuilt when its secret or certificate changes. */
  private async appFor(name: string, entry: AzureCredentialConfig): Promise<ConfidentialClientApplication> {
    const credential = await this.clientCredential(entry);
    const material = createHash("sha256").update(JSON.stringify(credential.fingerprint)).digest("hex");
    const known = this.apps.get(name);
    if (known?.material === material) return known.app;
    const host = new URL(entry.authorityHost).host;
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: entry.clientId ?? "",
        authority: `${entry.authorityHost.replace(/\/+$/, "")}/${entry.tenantId}`,
        // Entra ID itself, or a sovereign or test host configured on purpose: no instance discovery against the public cloud.
        knownAuthorities: [host],
        ...credential.auth,
      },
      system: {
        networkClient: await this.network(entry),
        loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => {} },
      },
    });
    this.apps.set(name, { material, app });
    return app;
  }

  private async clientCredential(entry: AzureCredentialConfig): Promise<{ auth: object; fingerprint: unknown }> {
    if (entry.source === "clientSecret" && entry.clientSecret) {
      const secret = await resolveSecret(entry.clientSecret);
      return { auth: { clientSecret: secret }, fingerprint: secret };
    }
    if (entry.source === "clientCertificate" && entry.clientCertificate) {
      const pem = await resolveSecret(entry.clientCertificate);
      const certificate = parseClientCertificate(pem, entry.clientCertificate);
      return { auth: { clientCertificate: certificate }, fingerprint: pem };
    }
    // Workload identity: the federated token the kubelet rotates in the file, read at each token request.
    const ref: SecretRef = { file: entry.federatedTokenFile ?? process.env.AZURE_FEDERATED_TOKEN_FILE ?? "" };
    if (!ref.file) {
      throw new ServiceError({
        reason: "SECRET_UNRESOLVABLE",
        message: "the workload identity has no federated token file: set federatedTokenFile or AZURE_FEDERATED_TOKEN_FILE",
        metadata: { env: "AZURE_FEDERATED_TOKEN_FILE" },
      });
    }
    return { auth: { clientAssertion: () => resolveSecret(ref) }, fingerprint: ref.file };
  }

  private async network(entry: AzureCredentialConfig): Promise<EntraNetwork> {
    const key = entry.caFile ?? "";
    let network = this.networks.get(key);
    if (!network) {
      network = new EntraNetwork(this.upstreamTimeoutMs, entry.caFile ? await readCa(entry.caFile) : undefined);
      this.networks.set(key, network);
    }
    return network;
  }

  /** IMDS (api-version 2018-02-01), as kubelogin's msi mode asks it. */
  private async imds(entry: AzureCredentialConfig, resource: string, signal: AbortSignal, call: UpstreamCall): Promise<MintedToken> {
    const url = new URL(`${entry.imdsEndpoint.replace(/\/+$/, "")}/metadata/identity/oauth2/token`);
    url.searchParams.set("api-version", "2018-02-01");
    url.searchParams.set("resource", resource);
    if (entry.clientId) url.searchParams.set("client_id", entry.clientId);
    const body = (await fetchUpstreamJson(
      { ...call, operation: "imds:token" },
      url,
      { metadata: "true" },
      signal,
      this.upstreamTimeoutMs,
    )) as {
      access_token?: unknown;
      expires_on?: unknown;
    };
    const expiresOn = Number(body?.expires_on);
    if (typeof body?.access_token !== "string" || !Number.isFinite(expiresOn))
      throw upstreamBadResponse(call, new Error("IMDS returned no token"));
    return { token: body.access_token, expiresAt: new Date(expiresOn * 1000) };
  }
}

/**
 * The certificate and key MSAL signs its assertion with (RS256/PS256 with an
 * `x5t#S256` header, as Entra ID specifies), from one PEM file. An expired
 * certificate is refused here, naming the file and never its content.
 */
function parseClientCertificate(pem: string, ref: SecretRef): { thumbprintSha256: string; privateKey: string; x5c: string } {
  const invalid = (problem: string) =>
    new ServiceError({
      reason: "CREDENTIALS_INVALID",
      message: `the client certificate (${describeSecretRef(ref)}) ${problem}`,
      metadata: "file" in ref ? { file: ref.file } : { env: ref.env },
    });
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const privateKey = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!certificatePem || !privateKey) throw invalid("must hold a PEM certificate and its private key");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw invalid("is not a valid X.509 certificate");
  }
  if (new Date(certificate.validTo) < new Date()) throw invalid(`expired on ${new Date(certificate.validTo).toISOString()}`);
  return { thumbprintSha256: certificate.fingerprint256.replace(/:/g, ""), privateKey, x5c: certificatePem };
}

async function readCa(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ServiceError({
      reason: "SECRET_UNRESOLVABLE",
      message: `the CA file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      metadata: { file },
    });
  }
}

import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { describeSecretRef, resolveSecret, type SecretRef } from "../../config/secret-ref.js";
import type { Clock } from "../../common/clock.js";
import { TtlCache } from "../../common/ttl-cache.js";
import { ServiceError } from "../../errors/service-error.js";
import { sharedLookupError, upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";
import { type CredentialUser, credentialEntryFor, credentialUserMetadata } from "../credential-entry.js";
import type { MintedToken, ProviderOptions } from "../driver.js";
import { fetchUpstreamJson } from "../upstream-fetch.js";
import { type AzureCredentialConfig, azureProviderName } from "./azure-config.js";
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
  private readonly apps = new Map<string, { material: string; app: ConfidentialClientApplication; checkValid?: () => void }>();
  private readonly imdsTokens: TtlCache<string, MintedToken>;
  private readonly networks = new Map<string, EntraNetwork>();
  private readonly cas = new Map<string, Buffer>();

  private readonly upstreamTimeoutMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly entries: ReadonlyMap<string, AzureCredentialConfig>,
    { upstreamTimeoutMs, clock }: ProviderOptions,
  ) {
    this.upstreamTimeoutMs = upstreamTimeoutMs;
    this.clock = clock;
    this.imdsTokens = new TtlCache({
      maxEntries: Math.max(4, entries.size * 4),
      attemptTimeoutMs: upstreamTimeoutMs,
      clock,
    });
  }

  /**
   * An access token of the credential `user` names, a cluster or an account, for
   * `scope` (e.g. `<app id>/.default`). A cluster and an account naming one entry
   * share its MSAL application and token cache, and its cached IMDS tokens.
   */
  async tokenFor(user: CredentialUser, scope: string, signal: AbortSignal): Promise<MintedToken> {
    const entry = credentialEntryFor(this.entries, user);
    const call: UpstreamCall = { provider: azureProviderName, operation: "entra:token", metadata: credentialUserMetadata(user) };
    if (entry.source === "managedIdentity") {
      const resource = scope.replace(/\/\.default$/, "");
      try {
        return await this.imdsTokens.get(`${user.credentials}\u0000${resource}`, signal, async (attempt) => {
          const minted = await this.imds(entry, resource, attempt, call);
          return { value: minted, expiresAt: minted.expiresAt.getTime() - renewBeforeMs };
        });
      } catch (err) {
        throw sharedLookupError(err, signal, call);
      }
    }
    const app = await this.appFor(user.credentials, entry);
    const result = await withEntraAttempt(call, signal, () => app.acquireTokenByClientCredential({ scopes: [scope] }));
    if (!result?.accessToken || !result.expiresOn) throw upstreamBadResponse(call, new Error("Entra ID returned no access token"));
    // MSAL keeps expiries by the wall clock (it takes no clock): what remains is carried over to the service's.
    return { token: result.accessToken, expiresAt: new Date(this.clock.now() + (result.expiresOn.getTime() - Date.now())) };
  }

  /**
   * The MSAL application of an entry, rebuilt only when its secret, certificate file
   * or token-file path changes: a certificate is parsed once per content, and its
   * expiry checked at every use.
   */
  private async appFor(name: string, entry: AzureCredentialConfig): Promise<ConfidentialClientApplication> {
    const credential = await this.clientCredential(entry);
    let known = this.apps.get(name);
    if (known?.material !== credential.material) {
      const { auth, checkValid } = credential.build();
      const app = new ConfidentialClientApplication({
        auth: {
          clientId: entry.clientId ?? "",
          authority: `${entry.authorityHost.replace(/\/+$/, "")}/${entry.tenantId}`,
          // Entra ID itself, or a sovereign or test host configured on purpose: no instance discovery against the public cloud.
          knownAuthorities: [new URL(entry.authorityHost).host],
          ...auth,
        },
        system: {
          networkClient: await this.network(entry),
          loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => {} },
        },
      });
      known = { material: credential.material, app, ...(checkValid ? { checkValid } : {}) };
      this.apps.set(name, known);
    }
    known.checkValid?.();
    return known.app;
  }

  /** What an entry authenticates with: its material as read now, and how to build MSAL's options from it. */
  private async clientCredential(
    entry: AzureCredentialConfig,
  ): Promise<{ material: string; build(): { auth: object; checkValid?: () => void } }> {
    if (entry.source === "clientSecret" && entry.clientSecret) {
      const secret = await resolveSecret(entry.clientSecret);
      return { material: secret, build: () => ({ auth: { clientSecret: secret } }) };
    }
    const certificateRef = entry.source === "clientCertificate" ? entry.clientCertificate : undefined;
    if (certificateRef) {
      const pem = await resolveSecret(certificateRef);
      return {
        material: pem,
        build: () => {
          const { validTo, ...certificate } = parseClientCertificate(pem, certificateRef);
          return { auth: { clientCertificate: certificate }, checkValid: () => refuseExpired(validTo, certificateRef, this.clock) };
        },
      };
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
    return { material: ref.file, build: () => ({ auth: { clientAssertion: () => resolveSecret(ref) } }) };
  }

  /** The extra CA of `user`'s credential (`caFile`): every Azure call made for it trusts it, Entra ID, IMDS and ARM alike. */
  caFor(user: CredentialUser): Promise<Buffer | undefined> {
    return this.ca(credentialEntryFor(this.entries, user));
  }

  private async ca(entry: AzureCredentialConfig): Promise<Buffer | undefined> {
    if (!entry.caFile) return undefined;
    let ca = this.cas.get(entry.caFile);
    if (!ca) {
      ca = await readCa(entry.caFile);
      this.cas.set(entry.caFile, ca);
    }
    return ca;
  }

  private async network(entry: AzureCredentialConfig): Promise<EntraNetwork> {
    const key = entry.caFile ?? "";
    let network = this.networks.get(key);
    if (!network) {
      network = new EntraNetwork(this.upstreamTimeoutMs, await this.ca(entry));
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
      { url, headers: { metadata: "true" }, signal, timeoutMs: this.upstreamTimeoutMs, ca: await this.ca(entry) },
    )) as { access_token?: unknown; expires_on?: unknown };
    const expiresOn = Number(body?.expires_on);
    if (typeof body?.access_token !== "string" || !Number.isFinite(expiresOn))
      throw upstreamBadResponse(call, new Error("IMDS returned no token"));
    return { token: body.access_token, expiresAt: new Date(expiresOn * 1000) };
  }
}

function invalidCertificate(ref: SecretRef, problem: string): ServiceError {
  return new ServiceError({
    reason: "CREDENTIALS_INVALID",
    message: `the client certificate (${describeSecretRef(ref)}) ${problem}`,
    metadata: "file" in ref ? { file: ref.file } : { env: ref.env },
  });
}

/**
 * The certificate and key MSAL signs its assertion with (RS256/PS256 with an
 * `x5t#S256` header, as Entra ID specifies), from one PEM file, and when the
 * certificate ends. Problems name the file, never its content.
 */
function parseClientCertificate(pem: string, ref: SecretRef): { thumbprintSha256: string; privateKey: string; x5c: string; validTo: Date } {
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const privateKey = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!certificatePem || !privateKey) throw invalidCertificate(ref, "must hold a PEM certificate and its private key");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    throw invalidCertificate(ref, "is not a valid X.509 certificate");
  }
  return {
    thumbprintSha256: certificate.fingerprint256.replace(/:/g, ""),
    privateKey,
    x5c: certificatePem,
    validTo: new Date(certificate.validTo),
  };
}

/** An expired client certificate is refused before any call to Entra ID. */
function refuseExpired(validTo: Date, ref: SecretRef, clock: Clock): void {
  if (validTo.getTime() < clock.now()) throw invalidCertificate(ref, `expired on ${validTo.toISOString()}`);
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

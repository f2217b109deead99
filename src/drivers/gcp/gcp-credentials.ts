import { createHash } from "node:crypto";
import { gaxios, GoogleAuth, Impersonated, JWT, type AuthClient } from "google-auth-library";
import { type GcpCredentialConfig, gcpProviderName } from "./gcp-config.js";
import { describeSecretRef, resolveSecret } from "../../config/secret-ref.js";
import { AttemptContext } from "../../common/attempt-context.js";
import type { Clock } from "../../common/clock.js";
import { SingleFlight } from "../../common/single-flight.js";
import { ServiceError } from "../../errors/service-error.js";
import type { ProviderOptions } from "../driver.js";
import { upstreamBadResponse, type UpstreamCall } from "../../errors/upstream-error.js";

/** The scopes gke-gcloud-auth-plugin requests with Application Default Credentials. */
export const gkeScopes = ["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"];
/** Google's OAuth2 token URL, which google-auth-library uses for service-account and user credentials. */
export const googleTokenUrl = "https://oauth2.googleapis.com/token";
/** How long an impersonated token is requested for (the IAM Credentials API maximum without an org policy). */
const impersonatedLifetimeSeconds = 3600;
/** When google-auth-library does not say when a token expires, report this conservative lifetime. */
const unknownExpiryLifetimeMs = 5 * 60_000;

/** An OAuth2 access token and when Google stops accepting it. */
export interface GoogleAccessToken {
  token: string;
  expiresAt: Date;
}

/**
 * The signal of the upstream attempt the current async context works for.
 * google-auth-library's token calls take no signal, so the transporter reads it from
 * here: that is how an attempt's deadline reaches the library's own HTTP request.
 */
const attemptSignal = new AttemptContext<AbortSignal>();

/**
 * A gaxios transporter for google-auth-library's clients. Every request makes one
 * attempt (the core retries, within each caller's deadline), is aborted after
 * `timeoutMs` or with the current attempt's signal. With `tokenEndpoint`, the
 * requests google-auth-library sends to Google's fixed token URL go there instead
 * (a private endpoint, or a local fake in tests); everything else about the request,
 * including the JWT assertion's audience, stays the library's own.
 */
function createTransporter(tokenEndpoint: string | undefined, timeoutMs: number): gaxios.Gaxios {
  const transporter = new gaxios.Gaxios({ timeout: timeoutMs });
  const target = tokenEndpoint ? new URL(tokenEndpoint) : undefined;
  transporter.interceptors.request.add({
    resolved: async (options) => {
      if (target && String(options.url) === googleTokenUrl) options.url = target;
      options.retry = false;
      options.retryConfig = { ...options.retryConfig, retry: 0, noResponseRetries: 0 };
      const signal = attemptSignal.current();
      if (signal) options.signal = options.signal ? AbortSignal.any([options.signal, signal]) : signal;
      return options;
    },
  });
  return transporter;
}

interface ServiceAccountKey {
  type: "service_account";
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

/** What makes a parsed key file unusable, or undefined when it is a service-account key. */
function serviceAccountKeyProblem(key: Partial<ServiceAccountKey> | undefined): string | undefined {
  if (key === undefined || typeof key !== "object" || key === null) return "is not valid JSON";
  if (key.type !== "service_account") return 'is not a service account key (its "type" is not "service_account")';
  if (typeof key.client_email !== "string" || typeof key.private_key !== "string" || !key.private_key.includes("PRIVATE KEY")) {
    return "lacks client_email or a PEM private_key";
  }
  return undefined;
}

function parseServiceAccountKey(text: string, entry: GcpCredentialConfig): ServiceAccountKey {
  let key: Partial<ServiceAccountKey> | undefined;
  try {
    key = JSON.parse(text) as Partial<ServiceAccountKey>;
  } catch {
    key = undefined;
  }
  const problem = serviceAccountKeyProblem(key);
  if (problem) {
    const where = entry.serviceAccountKey ? describeSecretRef(entry.serviceAccountKey) : "default credentials";
    throw new ServiceError({
      reason: "CREDENTIALS_INVALID",
      message: `the service account key (${where}) ${problem}`,
      metadata: { provider: gcpProviderName },
    });
  }
  return key as ServiceAccountKey;
}

/**
 * One gcp `credentials` entry: a google-auth-library client built from a
 * service-account key or Application Default Credentials, optionally impersonating a
 * service account. The client is kept, so its token cache is used, and rebuilt when
 * the key behind the reference changes.
 */
export class GcpCredentialSource {
  private cached: { fingerprint: string; client: Promise<AuthClient> } | undefined;
  private readonly transporter: gaxios.Gaxios;
  private readonly tokenFlights: SingleFlight<"token", GoogleAccessToken>;

  private readonly clock: Clock;

  constructor(
    private readonly entry: GcpCredentialConfig,
    { upstreamTimeoutMs, clock }: ProviderOptions,
  ) {
    this.clock = clock;
    this.transporter = createTransporter(entry.tokenEndpoint, upstreamTimeoutMs);
    this.tokenFlights = new SingleFlight({ attemptTimeoutMs: upstreamTimeoutMs });
  }

  /** What getting a token calls, for errors. */
  get operation(): string {
    return this.entry.impersonateServiceAccount ? "iamcredentials:generateAccessToken" : "oauth2:token";
  }

  /** The authorized client: it attaches the bearer token to requests made with it. */
  async client(): Promise<AuthClient> {
    const keyText = this.entry.serviceAccountKey ? await resolveSecret(this.entry.serviceAccountKey) : undefined;
    const fingerprint = keyText === undefined ? "adc" : createHash("sha256").update(keyText).digest("hex");
    if (this.cached?.fingerprint !== fingerprint) {
      const client = this.build(keyText);
      client.catch(() => (this.cached = undefined));
      this.cached = { fingerprint, client };
    }
    return this.cached.client;
  }

  /**
   * A current access token with its real expiry, from google-auth-library's cache or
   * a fresh grant. Concurrent callers share one attempt, bounded in time. Rejects with
   * `signal.reason` when `signal` aborts first.
   */
  accessToken(call: UpstreamCall, signal: AbortSignal): Promise<GoogleAccessToken> {
    return this.tokenFlights.run("token", signal, (attempt) => this.withAttempt(attempt, () => this.fetchAccessToken(call)));
  }

  /** Runs `work` so that every request google-auth-library makes for it follows `signal`. */
  withAttempt<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    return attemptSignal.run(signal, work);
  }

  private async fetchAccessToken(call: UpstreamCall): Promise<GoogleAccessToken> {
    const client = await this.client();
    const { token } = await client.getAccessToken();
    if (!token) throw upstreamBadResponse(call, new Error("no access token in the grant"));
    const expiry = client.credentials.expiry_date;
    const now = this.clock.now();
    // google-auth-library keeps expiries by the wall clock (it takes no clock): what remains is carried over to the service's.
    return { token, expiresAt: new Date(now + (typeof expiry === "number" ? expiry - Date.now() : unknownExpiryLifetimeMs)) };
  }

  private async build(keyText: string | undefined): Promise<AuthClient> {
    const { transporter, entry } = this;
    let source: AuthClient;
    if (keyText !== undefined) {
      const key = parseServiceAccountKey(keyText, entry);
      source = new JWT({
        email: key.client_email,
        key: key.private_key,
        ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
        scopes: gkeScopes,
        transporter,
      });
    } else {
      source = await new GoogleAuth({ scopes: gkeScopes, clientOptions: { transporter } }).getClient();
    }
    if (!entry.impersonateServiceAccount) return source;
    return new Impersonated({
      sourceClient: source,
      targetPrincipal: entry.impersonateServiceAccount,
      targetScopes: gkeScopes,
      lifetime: impersonatedLifetimeSeconds,
      delegates: [],
      transporter,
      ...(entry.iamCredentialsEndpoint ? { endpoint: entry.iamCredentialsEndpoint.replace(/\/+$/, "") } : {}),
    });
  }
}

import { constants, createHash, randomBytes, verify, X509Certificate, type KeyObject } from "node:crypto";
import { type Clock, systemClock } from "../../src/common/clock.js";
import { type FakeArm, type FakeAksCluster, startFakeArm } from "./fake-arm.js";
import { type FakeRequest, type FakeServer, startFakeServer } from "./fake-http-server.js";
import { jsonReply as json } from "./list-api.js";
import type { Verdict } from "./verdict.js";

/** The AKS AAD server application's scope. */
export const aksScope = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";

/** An application registered in the fake tenant, with how it may prove itself. */
export interface FakeEntraApp {
  secret?: string;
  /** PEM of a certificate whose key may sign client assertions. */
  certificate?: string;
  /** A federated credential: tokens of this issuer and subject, for audience api://AzureADTokenExchange. */
  federated?: { issuer: string; subject: string; publicKey: KeyObject };
}

/** An access token the fake issued. */
interface Issued {
  clientId: string;
  scope: string;
  expiresAt: number;
}

/** The fake Azure: Entra ID and ARM (HTTPS, as in Azure), IMDS (plain HTTP, as in Azure), each verifying what it is sent. */
export interface FakeAzure {
  readonly entra: FakeServer;
  readonly imds: FakeServer;
  /** ARM: managedClusters list, get and listClusterUserCredential, for tokens the fake Entra ID issued for ARM. */
  readonly arm: FakeArm;
  /** Verifies a bearer token presented to an AKS API server, as AKS's Entra integration does, now by the fake's clock unless given. */
  verifyAksToken(token: string, now?: Date): Verdict;
  close(): Promise<void>;
}

const oauthError = (error: string, description: string) => json(400, { error, error_description: description });
const b64url = (text: string) => JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Record<string, unknown>;

/** Verifies a compact JWS with `key`: RS256 or PS256. */
function verifyJws(
  jwt: string,
  key: KeyObject,
): { ok: true; header: Record<string, unknown>; claims: Record<string, unknown> } | { ok: false; reason: string } {
  const parts = jwt.split(".");
  if (parts.length !== 3) return { ok: false, reason: "not a JWS" };
  const [h = "", c = "", s = ""] = parts;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = b64url(h);
    claims = b64url(c);
  } catch {
    return { ok: false, reason: "undecodable JWS" };
  }
  const data = Buffer.from(`${h}.${c}`);
  const signature = Buffer.from(s, "base64url");
  let valid = false;
  if (header.alg === "RS256") valid = verify("sha256", data, key, signature);
  else if (header.alg === "PS256")
    valid = verify("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
  else return { ok: false, reason: `alg ${String(header.alg)} not accepted` };
  return valid ? { ok: true, header, claims } : { ok: false, reason: "bad signature" };
}

/** Starts the fake. `tls` serves Entra ID (MSAL requires https of an authority) and ARM over HTTPS, as Azure does. */
export async function startFakeAzure(options: {
  tenantId: string;
  tls: { cert: Buffer; key: Buffer };
  apps: Record<string, FakeEntraApp>;
  /** Managed identities IMDS serves, by client id ("system" for the system-assigned one). */
  managedIdentities: string[];
  /** Clusters ARM knows at the start, by "subscription/resourceGroup/name"; `arm.putCluster` adds more. */
  clusters: Record<string, FakeAksCluster>;
  /** Azure's clock: assertions, certificates and token lifetimes are judged by it. The wall clock when absent. */
  clock?: Clock;
}): Promise<FakeAzure> {
  const clock = options.clock ?? systemClock;
  const issued = new Map<string, Issued>();
  let armResource = "";
  const scopeAllowed = (scope: string) => scope === aksScope || scope === `${armResource}/.default`;
  const issue = (clientId: string, scope: string) => {
    const token = `eyJ0eXAiOiJKV1QifQ.${randomBytes(24).toString("base64url")}.${randomBytes(16).toString("base64url")}`;
    const expiresIn = 3599;
    issued.set(token, { clientId, scope, expiresAt: clock.now() + expiresIn * 1000 });
    return { token, expiresIn };
  };

  let entraUrl = "";
  const tokenEndpoint = () => `${entraUrl}/${options.tenantId}/oauth2/v2.0/token`;
  const entra = await startFakeServer(
    (req: FakeRequest) => {
      const path = req.url.pathname;
      if (req.method === "GET" && path === `/${options.tenantId}/v2.0/.well-known/openid-configuration`) {
        return json(200, {
          token_endpoint: tokenEndpoint(),
          authorization_endpoint: `${entraUrl}/${options.tenantId}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${entraUrl}/${options.tenantId}/oauth2/v2.0/logout`,
          issuer: `${entraUrl}/${options.tenantId}/v2.0`,
          jwks_uri: `${entraUrl}/${options.tenantId}/discovery/v2.0/keys`,
        });
      }
      if (req.method !== "POST" || path !== `/${options.tenantId}/oauth2/v2.0/token`) return json(404, { error: "not_found" });
      const form = new URLSearchParams(req.body.toString("utf8"));
      if (form.get("grant_type") !== "client_credentials") return oauthError("unsupported_grant_type", "only client_credentials");
      const clientId = form.get("client_id") ?? "";
      const app = options.apps[clientId];
      if (!app) return oauthError("invalid_client", "AADSTS700016: application not found in the directory");
      const scope = form.get("scope") ?? "";
      if (!scopeAllowed(scope.split(" ").find((s) => s !== "offline_access" && s !== "openid" && s !== "profile") ?? "")) {
        return oauthError("invalid_scope", `AADSTS70011: scope ${scope} is not valid`);
      }
      const secret = form.get("client_secret");
      const assertion = form.get("client_assertion");
      if (secret !== null) {
        if (!app.secret || secret !== app.secret) return oauthError("invalid_client", "AADSTS7000215: invalid client secret");
      } else if (assertion !== null && form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        const verdict = verifyAssertion(assertion, app, clientId);
        if (!verdict.ok) return oauthError("invalid_client", `AADSTS700027: ${verdict.reason}`);
      } else {
        return oauthError("invalid_client", "AADSTS7000218: no client credential");
      }
      const { token, expiresIn } = issue(clientId, scope.split(" ").find(scopeAllowed) ?? scope);
      return json(200, { token_type: "Bearer", expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
    },
    { tls: options.tls, clock },
  );
  entraUrl = entra.url;

  /** A client assertion: signed by the app's certificate (x5t#S256) or a federated token of its issuer and subject. */
  function verifyAssertion(jwt: string, app: FakeEntraApp, clientId: string): Verdict {
    const now = clock.now() / 1000;
    let header: Record<string, unknown>;
    try {
      header = b64url(jwt.split(".")[0] ?? "");
    } catch {
      return { ok: false, reason: "undecodable assertion" };
    }
    if (app.certificate && header["x5t#S256"] !== undefined) {
      const cert = new X509Certificate(app.certificate);
      const thumbprint = createHash("sha256").update(cert.raw).digest("base64url");
      if (header["x5t#S256"] !== thumbprint) return { ok: false, reason: "unknown certificate thumbprint" };
      if (new Date(cert.validTo).getTime() / 1000 < now) return { ok: false, reason: "the certificate has expired" };
      const checked = verifyJws(jwt, cert.publicKey);
      if (!checked.ok) return checked;
      const { claims } = checked;
      if (claims.aud !== tokenEndpoint()) return { ok: false, reason: `aud ${String(claims.aud)} is not the token endpoint` };
      if (claims.iss !== clientId || claims.sub !== clientId) return { ok: false, reason: "iss and sub must be the client id" };
      if (typeof claims.exp !== "number" || claims.exp < now || (typeof claims.nbf === "number" && claims.nbf > now + 60))
        return { ok: false, reason: "the assertion is not valid now" };
      if (claims.exp - now > 3600) return { ok: false, reason: "the assertion lives too long" };
      if (typeof claims.jti !== "string") return { ok: false, reason: "no jti" };
      return { ok: true, identity: clientId };
    }
    if (app.federated) {
      const checked = verifyJws(jwt, app.federated.publicKey);
      if (!checked.ok) return checked;
      const { claims } = checked;
      if (claims.iss !== app.federated.issuer || claims.sub !== app.federated.subject)
        return { ok: false, reason: "no matching federated credential" };
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes("api://AzureADTokenExchange")) return { ok: false, reason: "audience must be api://AzureADTokenExchange" };
      if (typeof claims.exp !== "number" || claims.exp < now) return { ok: false, reason: "the federated token has expired" };
      return { ok: true, identity: clientId };
    }
    return { ok: false, reason: "no certificate or federated credential for this app" };
  }

  const imds = await startFakeServer(
    (req) => {
      if (req.headers.metadata !== "true")
        return json(400, { error: "invalid_request", error_description: "Required metadata header not specified" });
      if (
        req.method !== "GET" ||
        req.url.pathname !== "/metadata/identity/oauth2/token" ||
        req.url.searchParams.get("api-version") !== "2018-02-01"
      )
        return json(404, { error: "not_found" });
      const identity = req.url.searchParams.get("client_id") ?? "system";
      if (!options.managedIdentities.includes(identity))
        return json(400, { error: "invalid_request", error_description: "Identity not found" });
      const resource = req.url.searchParams.get("resource") ?? "";
      if (!scopeAllowed(`${resource}/.default`)) return json(400, { error: "invalid_resource" });
      const { token, expiresIn } = issue(identity, `${resource}/.default`);
      return json(200, {
        access_token: token,
        expires_on: String(Math.floor(clock.now() / 1000) + expiresIn),
        resource,
        token_type: "Bearer",
      });
    },
    { clock },
  );

  const arm = await startFakeArm({
    tls: options.tls,
    clock,
    clusters: options.clusters,
    authorized(bearer) {
      const grant = issued.get(bearer);
      return grant !== undefined && grant.expiresAt >= clock.now() && grant.scope === `${armResource}/.default`;
    },
  });
  armResource = arm.url;

  return {
    entra,
    imds,
    arm,
    verifyAksToken(token, now = new Date(clock.now())) {
      const grant = issued.get(token);
      if (!grant) return { ok: false, reason: "unknown token" };
      if (grant.scope !== aksScope) return { ok: false, reason: "the token is not for the AKS server application" };
      if (grant.expiresAt < now.getTime()) return { ok: false, reason: "the token has expired" };
      return { ok: true, identity: grant.clientId };
    },
    close: async () => {
      await Promise.all([entra.close(), imds.close(), arm.close()]);
    },
  };
}

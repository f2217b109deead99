import { generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";
import { type Clock, systemClock } from "../../src/common/clock.js";
import { startFakeServer, type FakeServer } from "./fake-http-server.js";
import type { Verdict } from "./verdict.js";

/** What Google requires of a service-account JWT assertion. */
const tokenAudience = "https://oauth2.googleapis.com/token";
const requiredScopes = ["https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"];
const maxAssertionLifetimeS = 3600;

/** A GKE cluster the fake knows, by "project/location/name". */
export interface FakeGkeCluster {
  endpoint: string;
  caData: string;
  status?: string;
  /** Its `resourceLabels`. */
  labels?: Record<string, string>;
}

/** A service-account key file and its key, as the tests write them. */
export interface TestServiceAccount {
  email: string;
  keyId: string;
  /** The JSON key file's content. */
  keyFile: string;
  publicKey: KeyObject;
}

/** Creates a service account with a fresh RSA key, as `gcloud iam service-accounts keys create` would. */
export function createTestServiceAccount(email: string): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyId = randomBytes(20).toString("hex");
  const keyFile = JSON.stringify({
    type: "service_account",
    project_id: email.split("@")[1]!.split(".")[0],
    private_key_id: keyId,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
    client_email: email,
    client_id: "100000000000000000001",
    token_uri: tokenAudience,
  });
  return { email, keyId, keyFile, publicKey };
}

interface IssuedToken {
  principal: string;
  scopes: string[];
  expiresAt: number;
}

/** A running fake Google Cloud. */
export interface FakeGcp extends FakeServer {
  /** The token endpoint to configure as `tokenEndpoint`. */
  readonly tokenUrl: string;
  /** Access tokens it issued. */
  readonly issued: Map<string, IssuedToken>;
  /** Requests per GKE API (`clusters.list`, `clusters.get`) and to the token endpoint. */
  readonly calls: { list: number; get: number; token: number };
  /** Accepts a token it issued that is unexpired and carries the cloud-platform scope, as GKE would. */
  verifyAccessToken(token: string): Verdict;
  /** Creates or replaces a cluster, seen by the next request. */
  addCluster(project: string, location: string, name: string, cluster: FakeGkeCluster): void;
  removeCluster(project: string, location: string, name: string): void;
  /** Refuses every GKE request about `project` with 403, as IAM does without `container.clusters.*` there. */
  denyProject(project: string): void;
  /** Names `zones` as `missingZones` in every listing of `project`. */
  missingZones(project: string, zones: string[]): void;
  /** Deletes every cluster and clears every fault. */
  reset(): void;
}

function b64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * A local Google Cloud that verifies for real:
 * - `POST /token`: a JWT-bearer grant whose RS256 assertion verifies with a known
 *   service account's public key (and `kid`), with `iss` that account, `aud`
 *   Google's token URL, both GKE scopes, and a current `iat`/`exp` at most an hour apart;
 * - `POST /v1/projects/-/serviceAccounts/{target}:generateAccessToken`: a bearer token
 *   it issued to a principal allowed to impersonate `target`;
 * - `GET /v1/projects/{p}/locations/{l}/clusters/{name}` and
 *   `GET /v1/projects/{p}/locations/{l}/clusters` (`-`: every location, no pages,
 *   `missingZones` when the test makes it partial): a bearer token it issued, unexpired,
 *   with the cloud-platform scope.
 */
export async function startFakeGcp(options: {
  serviceAccounts: TestServiceAccount[];
  /** target email → principals allowed to impersonate it */
  impersonation?: Record<string, string[]>;
  clusters: Record<string, FakeGkeCluster>;
  /** Lifetime of issued tokens, in seconds (Google: 3599). */
  tokenLifetimeS?: number;
  /** Google's clock: assertions and token lifetimes are judged by it. The wall clock when absent. */
  clock?: Clock;
}): Promise<FakeGcp> {
  const clock = options.clock ?? systemClock;
  const clusters = new Map(Object.entries(options.clusters));
  const calls = { list: 0, get: 0, token: 0 };
  const denied = new Set<string>();
  const missing = new Map<string, string[]>();
  const accounts = new Map(options.serviceAccounts.map((a) => [a.email, a]));
  const issued = new Map<string, IssuedToken>();
  const lifetime = options.tokenLifetimeS ?? 3599;
  const json = (status: number, body: unknown) => ({ status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const issue = (principal: string, scopes: string[]) => {
    const token = `ya29.fake-${randomBytes(24).toString("base64url")}`;
    issued.set(token, { principal, scopes, expiresAt: clock.now() + lifetime * 1000 });
    return token;
  };
  const bearer = (authorization: string | undefined): IssuedToken | undefined => {
    const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    const grant = token ? issued.get(token) : undefined;
    return grant && grant.expiresAt > clock.now() ? grant : undefined;
  };

  function grant(body: URLSearchParams) {
    const invalid = (why: string) => json(400, { error: "invalid_grant", error_description: why });
    if (body.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return json(400, { error: "unsupported_grant_type" });
    const [h, p, s] = (body.get("assertion") ?? "").split(".");
    const header = b64urlJson(h ?? "");
    const claims = b64urlJson(p ?? "");
    if (!header || !claims || !s) return invalid("malformed assertion");
    if (header.alg !== "RS256") return invalid("alg must be RS256");
    const account = accounts.get(String(claims.iss));
    if (!account) return invalid("unknown service account");
    if (header.kid !== undefined && header.kid !== account.keyId) return invalid("unknown key id");
    if (!verify("RSA-SHA256", Buffer.from(`${h}.${p}`), account.publicKey, Buffer.from(s, "base64url")))
      return invalid("Invalid JWT Signature.");
    if (claims.aud !== tokenAudience) return invalid("Invalid JWT: aud");
    const scopes = String(claims.scope ?? "").split(" ");
    if (!requiredScopes.every((scope) => scopes.includes(scope))) return invalid("missing scopes");
    const now = Math.floor(clock.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!(iat <= now + 60 && exp > now && exp - iat <= maxAssertionLifetimeS))
      return invalid("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe");
    return json(200, { access_token: issue(account.email, scopes), expires_in: lifetime, token_type: "Bearer" });
  }

  /** `clusters.get` and `clusters.list`, for `[project, location, name?]`. */
  function clusterApi(req: { headers: Record<string, string | undefined> }, [project, location, name]: (string | undefined)[]) {
    calls[name === undefined ? "list" : "get"]++;
    const caller = bearer(req.headers.authorization);
    if (!caller) return json(401, { error: { code: 401, status: "UNAUTHENTICATED" } });
    if (!caller.scopes.includes(requiredScopes[0]!) || denied.has(project!))
      return json(403, { error: { code: 403, status: "PERMISSION_DENIED" } });
    const resource = (key: string, cluster: FakeGkeCluster) => {
      const [, where, own] = key.split("/");
      const labels = cluster.labels && Object.keys(cluster.labels).length > 0 ? { resourceLabels: cluster.labels } : {};
      return {
        name: own,
        location: where,
        selfLink: `https://container.googleapis.com/v1/projects/${project}/locations/${where}/clusters/${own}`,
        status: cluster.status ?? "RUNNING",
        endpoint: cluster.endpoint,
        masterAuth: { clusterCaCertificate: cluster.caData },
        ...labels,
      };
    };
    if (name !== undefined) {
      const key = `${project}/${location}/${name}`;
      const cluster = clusters.get(key);
      return cluster ? json(200, resource(key, cluster)) : json(404, { error: { code: 404, status: "NOT_FOUND" } });
    }
    const listed = [...clusters]
      .filter(([key]) => key.startsWith(`${project}/`) && (location === "-" || key.split("/")[1] === location))
      .map(([key, cluster]) => resource(key, cluster));
    // Google leaves empty lists out of its JSON.
    const zones = missing.get(project!) ?? [];
    return json(200, { ...(listed.length > 0 ? { clusters: listed } : {}), ...(zones.length > 0 ? { missingZones: zones } : {}) });
  }

  const server = await startFakeServer(
    (req) => {
      const path = req.url.pathname;
      if (req.method === "POST" && path === "/token") {
        calls.token++;
        return grant(new URLSearchParams(req.body.toString("utf8")));
      }
      const impersonate = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(path);
      if (req.method === "POST" && impersonate) {
        const caller = bearer(req.headers.authorization);
        if (!caller) return json(401, { error: { code: 401, status: "UNAUTHENTICATED" } });
        const target = decodeURIComponent(impersonate[1]!);
        if (!(options.impersonation?.[target] ?? []).includes(caller.principal))
          return json(403, { error: { code: 403, status: "PERMISSION_DENIED" } });
        const body = JSON.parse(req.body.toString("utf8") || "{}") as { scope?: string[] };
        const token = issue(target, body.scope ?? []);
        return json(200, { accessToken: token, expireTime: new Date(issued.get(token)!.expiresAt).toISOString() });
      }
      const gke = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/clusters(?:\/([^/]+))?$/.exec(path);
      if (req.method === "GET" && gke)
        return clusterApi(
          req,
          gke.slice(1).map((part) => (part === undefined ? undefined : decodeURIComponent(part))),
        );
      return json(404, { error: { code: 404, status: "NOT_FOUND" } });
    },
    { clock },
  );

  return Object.assign(server, {
    tokenUrl: `${server.url}/token`,
    issued,
    calls,
    addCluster: (project: string, location: string, name: string, cluster: FakeGkeCluster) =>
      void clusters.set(`${project}/${location}/${name}`, cluster),
    removeCluster: (project: string, location: string, name: string) => void clusters.delete(`${project}/${location}/${name}`),
    denyProject: (project: string) => void denied.add(project),
    missingZones: (project: string, zones: string[]) => void missing.set(project, zones),
    reset() {
      clusters.clear();
      denied.clear();
      missing.clear();
    },
    verifyAccessToken(token: string): Verdict {
      const grant = issued.get(token);
      if (!grant) return { ok: false, reason: "unknown token" };
      if (grant.expiresAt <= clock.now()) return { ok: false, reason: "expired token" };
      if (!grant.scopes.includes(requiredScopes[0]!)) return { ok: false, reason: "missing cloud-platform scope" };
      return { ok: true, identity: grant.principal };
    },
  });
}

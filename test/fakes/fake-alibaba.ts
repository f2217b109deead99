import { randomBytes } from "node:crypto";
import { type KnownAlibabaKey, verifyAcs3 } from "./acs3-verifier.js";
import { type Clock, systemClock } from "../../src/common/clock.js";
import { type FakeAckCluster, type FakeContainerService, startFakeContainerService } from "./fake-container-service.js";
import { type FakeRequest, type FakeServer, startFakeServer } from "./fake-http-server.js";
import { jsonReply as json } from "./list-api.js";
import type { Verdict } from "./verdict.js";

/** What ack-ram-authenticator lets a token carry: signature material only (lower case), plus the User-Agent. */
const headerAllowlist = new Set([
  "x-acs-action",
  "x-acs-version",
  "authorization",
  "x-acs-signature-nonce",
  "x-acs-date",
  "x-acs-content-sha256",
  "x-acs-content-sm3",
  "x-acs-security-token",
  "user-agent",
]);
/** The largest token ack-ram-authenticator reads. */
const maxTokenBytes = 4096;

/** The fake Alibaba Cloud: STS (AssumeRole), the Container Service API, and an ACK token verifier. */
export interface FakeAlibaba {
  /** STS and the Container Service on one endpoint, told apart by path. */
  readonly sts: FakeServer;
  /** The Container Service: DescribeClustersV1 and DescribeClusterUserKubeconfig, ACS3-verified. */
  readonly cs: FakeContainerService;
  /** Every key the fake knows: the configured pairs and the STS keys it has issued. */
  readonly keys: Map<string, KnownAlibabaKey>;
  /** Verifies a `k8s-ack-v2.` token presented to `clusterId` as ack-ram-authenticator and STS would, now by the fake's clock unless given. */
  verifyAckToken(token: string, clusterId: string, now?: Date): Verdict;
  close(): Promise<void>;
}

/**
 * Starts the fake. `roles` maps a RAM role ARN to the key ids allowed to assume it;
 * assuming it issues fresh STS keys (with a security token) that the fake then knows.
 */
export async function startFakeAlibaba(options: {
  keys: Record<string, string>;
  roles: Record<string, { trustedKeys: string[]; externalId?: string }>;
  /** Clusters the Container Service knows at the start, by cluster id; `cs.putCluster` adds more. */
  clusters: Record<string, FakeAckCluster>;
  /** Alibaba Cloud's clock: signatures and STS expiries are judged by it. The wall clock when absent. */
  clock?: Clock;
}): Promise<FakeAlibaba> {
  const clock = options.clock ?? systemClock;
  const keys = new Map<string, KnownAlibabaKey>(Object.entries(options.keys).map(([id, secret]) => [id, { secret }]));
  const verify = (req: FakeRequest) =>
    verifyAcs3(
      { method: req.method, path: req.url.pathname, query: Object.fromEntries(req.url.searchParams), headers: req.headers, body: req.body },
      keys,
      { now: new Date(clock.now()), requireHost: true },
    );

  const sts = await startFakeServer(
    (req) => {
      const verdict = verify(req);
      if (!verdict.ok) return json(403, { Code: "SignatureDoesNotMatch", Message: verdict.reason });
      if (req.method !== "POST" || req.headers["x-acs-action"] !== "AssumeRole" || req.headers["x-acs-version"] !== "2015-04-01")
        return json(400, { Code: "InvalidAction.NotFound" });
      const q = req.url.searchParams;
      const role = options.roles[q.get("RoleArn") ?? ""];
      if (!role || !role.trustedKeys.includes(verdict.identity)) return json(403, { Code: "NoPermission" });
      if (role.externalId !== undefined && q.get("ExternalId") !== role.externalId) return json(403, { Code: "NoPermission" });
      if (!/^[\w.@-]{2,64}$/.test(q.get("RoleSessionName") ?? "")) return json(400, { Code: "InvalidParameter.RoleSessionName" });
      const seconds = Number(q.get("DurationSeconds"));
      if (!(seconds >= 900 && seconds <= 43_200)) return json(400, { Code: "InvalidParameter.DurationSeconds" });
      const accessKeyId = `STS.${randomBytes(12).toString("hex")}`;
      const issued = {
        secret: randomBytes(24).toString("base64"),
        securityToken: `CAIS${randomBytes(48).toString("base64")}`,
        expiresAt: new Date(clock.now() + seconds * 1000),
        roleArn: q.get("RoleArn") ?? "",
      };
      keys.set(accessKeyId, issued);
      return json(200, {
        RequestId: randomBytes(8).toString("hex"),
        Credentials: {
          AccessKeyId: accessKeyId,
          AccessKeySecret: issued.secret,
          SecurityToken: issued.securityToken,
          Expiration: issued.expiresAt.toISOString().replace(/\.\d+Z$/, "Z"),
        },
      });
    },
    { clock },
  );

  const cs = await startFakeContainerService({ clock, verify, clusters: options.clusters });

  return {
    sts,
    cs,
    keys,
    verifyAckToken(token, clusterId, now = new Date(clock.now())) {
      if (token.length > maxTokenBytes) return { ok: false, reason: "the token is larger than 4096 bytes" };
      if (!token.startsWith("k8s-ack-v2.")) return { ok: false, reason: "not a k8s-ack-v2 token" };
      let claim: {
        clusterId?: unknown;
        method?: unknown;
        path?: unknown;
        query?: Record<string, string>;
        headers?: Record<string, string>;
      };
      try {
        claim = JSON.parse(Buffer.from(token.slice("k8s-ack-v2.".length), "base64").toString("utf8")) as typeof claim;
      } catch {
        return { ok: false, reason: "the token is not base64 JSON" };
      }
      const query = claim.query ?? {};
      const headers = claim.headers ?? {};
      for (const name of Object.keys(headers))
        if (!headerAllowlist.has(name.toLowerCase())) return { ok: false, reason: `header ${name} is not allowed` };
      for (const name of Object.keys(query))
        if (name.toLowerCase() !== "ackclusterid") return { ok: false, reason: `query ${name} is not allowed` };
      if (query.ACKClusterId !== clusterId || claim.clusterId !== clusterId) return { ok: false, reason: "minted for another cluster" };
      if (claim.method !== "POST" || claim.path !== "/") return { ok: false, reason: "not a POST to /" };
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      if (lower["x-acs-action"] !== "GetCallerIdentity" || lower["x-acs-version"] !== "2015-04-01")
        return { ok: false, reason: "not STS GetCallerIdentity" };
      // What STS does with the replayed request: verify it as any other, and name the caller: an assumed role's session by its role.
      const verdict = verifyAcs3({ method: "POST", path: "/", query, headers, body: "" }, keys, { now, requireHost: false });
      return verdict.ok ? { ok: true, identity: keys.get(verdict.identity)?.roleArn ?? verdict.identity } : verdict;
    },
    close: async () => {
      await Promise.all([sts.close(), cs.close()]);
    },
  };
}

import { randomBytes } from "node:crypto";
import { type Clock, systemClock } from "../../src/common/clock.js";
import { verifyEksToken } from "./eks-token-verifier.js";
import { startFakeServer, type FakeReply, type FakeServer } from "./fake-http-server.js";
import { verifyHeaderSignature, type KnownKey } from "./sigv4-verifier.js";
import type { Verdict } from "./verdict.js";

/** A role the fake STS lets callers assume. */
export interface FakeRole {
  /** When set, AssumeRole must carry exactly this ExternalId. */
  externalId?: string;
  /** Access key ids allowed to assume the role. */
  trustedKeys: string[];
}

/** Options of {@link startFakeSts}. */
export interface FakeStsOptions {
  /** Long-term keys STS knows, by access key id. */
  keys: Record<string, KnownKey>;
  /** Assumable roles, by ARN. */
  roles?: Record<string, FakeRole>;
  /** The signing region AssumeRole requests must use. */
  region?: string;
  /** STS's clock: signatures, token windows and credential expiries are judged by it. The wall clock when absent. */
  clock?: Clock;
}

/** A recorded AssumeRole call that passed verification. */
export interface AssumeRoleCall {
  roleArn: string;
  sessionName: string;
  externalId: string | undefined;
  durationSeconds: number;
  signedWith: string;
}

/** A running fake STS. */
export interface FakeSts extends FakeServer {
  /** Every key it accepts, including temporary ones it issued. */
  readonly keys: Map<string, KnownKey>;
  readonly assumeRoleCalls: AssumeRoleCall[];
  /**
   * Verifies an EKS token as EKS + STS would, for a cluster named `clusterName` in
   * `region`, now by STS's clock unless given. The identity of an accepted token is
   * what GetCallerIdentity reports and an EKS access entry matches: for an assumed
   * role's keys, the role's ARN (`arn:aws:iam::ACCOUNT:role/NAME`, as EKS maps a
   * session to its role); for long-term keys, their access key id.
   */
  verifyEksToken(token: string, clusterName: string, region: string, now?: Date): Verdict;
}

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

function errorReply(status: number, code: string, message: string): FakeReply {
  const type = status >= 500 ? "Receiver" : "Sender";
  return {
    status,
    headers: { "content-type": "text/xml" },
    body: `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
  };
}

/**
 * A local STS that verifies for real: AssumeRole (query protocol, POST) must carry a
 * valid SigV4 Authorization header for a known key, the right region and service,
 * a trusted role, a valid session name and the configured ExternalId; it then issues
 * temporary credentials that it accepts from then on. Presigned GetCallerIdentity
 * URLs (EKS tokens) are verified with {@link verifyEksToken}.
 */
export async function startFakeSts(options: FakeStsOptions): Promise<FakeSts> {
  const keys = new Map(Object.entries(options.keys));
  const roles = options.roles ?? {};
  const region = options.region ?? "us-east-1";
  const clock = options.clock ?? systemClock;
  const assumeRoleCalls: AssumeRoleCall[] = [];

  const server = await startFakeServer(
    (req) => {
      if (req.method !== "POST") return errorReply(400, "InvalidAction", "only POST AssumeRole is served here");
      if (!/^application\/x-www-form-urlencoded/.test(req.headers["content-type"] ?? ""))
        return errorReply(400, "InvalidRequest", "form body expected");
      const verdict = verifyHeaderSignature(
        { method: req.method, path: req.url.pathname, query: req.url.searchParams, headers: req.headers, body: req.body },
        keys,
        { region, service: "sts", now: new Date(clock.now()) },
      );
      if (!verdict.ok) return errorReply(403, "SignatureDoesNotMatch", verdict.reason);
      const form = new URLSearchParams(req.body.toString("utf8"));
      if (form.get("Action") !== "AssumeRole" || form.get("Version") !== "2011-06-15")
        return errorReply(400, "InvalidAction", "expected Action=AssumeRole&Version=2011-06-15");
      const roleArn = form.get("RoleArn") ?? "";
      const role = roles[roleArn];
      if (!role?.trustedKeys.includes(verdict.identity)) return errorReply(403, "AccessDenied", "not authorized to perform sts:AssumeRole");
      const sessionName = form.get("RoleSessionName") ?? "";
      if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) return errorReply(400, "ValidationError", "invalid RoleSessionName");
      const externalId = form.get("ExternalId") ?? undefined;
      if (role.externalId !== externalId) return errorReply(403, "AccessDenied", "ExternalId does not match");
      const durationSeconds = Number(form.get("DurationSeconds") ?? 3600);
      if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200)
        return errorReply(400, "ValidationError", "invalid DurationSeconds");
      assumeRoleCalls.push({ roleArn, sessionName, externalId, durationSeconds, signedWith: verdict.identity });

      const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
      const secretAccessKey = randomBytes(30).toString("base64");
      const sessionToken = randomBytes(96).toString("base64");
      keys.set(accessKeyId, { secretAccessKey, sessionToken, arn: roleArn });
      const expiration = new Date(clock.now() + durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
      const account = roleArn.split(":")[4];
      const roleName = roleArn.slice(roleArn.indexOf(":role/") + 6);
      return {
        status: 200,
        headers: { "content-type": "text/xml" },
        body:
          `<AssumeRoleResponse xmlns="${xmlns}"><AssumeRoleResult>` +
          `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `<AssumedRoleUser><AssumedRoleId>AROAFAKE:${sessionName}</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}</Arn></AssumedRoleUser>` +
          `</AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      };
    },
    { clock },
  );

  return Object.assign(server, {
    keys,
    assumeRoleCalls,
    verifyEksToken: (token: string, clusterName: string, tokenRegion: string, now?: Date): Verdict => {
      const verdict = verifyEksToken(token, { clusterName, region: tokenRegion, keys, now: now ?? new Date(clock.now()) });
      return verdict.ok ? { ok: true, identity: keys.get(verdict.identity)?.arn ?? verdict.identity } : verdict;
    },
  });
}

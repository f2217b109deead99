import { isThrottlingError, isTransientError } from "@smithy/core/retry";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { AwsCredentialConfig } from "../../config/config-schema.js";
import { isServiceError, ServiceError } from "../../errors/service-error.js";
import type { MintedToken, RegisteredCluster, TokenDriver } from "../driver.js";
import { raceAbort, upstreamBadResponse, upstreamHttpError, upstreamThrottled, upstreamUnreachable, type UpstreamCall } from "../upstream-error.js";
import { createAwsCredentialProvider } from "./aws-credentials.js";
import { mintEksToken } from "./eks-token.js";

/** Options of {@link EksTokenDriver}. */
export interface EksDriverOptions {
  /** The `credentials` entries whose provider is aws, by name. */
  credentials: Readonly<Record<string, AwsCredentialConfig>>;
  /** The clock; tests pin it. Defaults to the system clock. */
  now?: () => Date;
}

interface NamedProvider {
  provider: AwsCredentialIdentityProvider;
  /** What resolving these credentials calls, for errors. */
  operation: string;
}

/**
 * The AWS EKS token driver. Tokens are presigned locally; the only network call is
 * STS AssumeRole, for credentials with a `roleArn`.
 */
export class EksTokenDriver implements TokenDriver {
  private readonly providers = new Map<string, NamedProvider>();
  private readonly now: () => Date;

  constructor(options: EksDriverOptions) {
    this.now = options.now ?? (() => new Date());
    for (const [name, entry] of Object.entries(options.credentials)) {
      this.providers.set(name, {
        provider: createAwsCredentialProvider(entry),
        operation: entry.roleArn ? "sts:AssumeRole" : entry.source === "default" ? "default credential chain" : "static credentials",
      });
    }
  }

  async mintToken(cluster: RegisteredCluster, signal: AbortSignal): Promise<MintedToken> {
    const named = this.providers.get(cluster.credentials);
    if (!named) {
      throw new ServiceError({
        code: "FailedPrecondition",
        reason: "CREDENTIALS_NOT_CONFIGURED",
        message: `cluster ${cluster.id} names credentials "${cluster.credentials}", which are not configured for aws`,
        metadata: { cluster_id: cluster.id, provider: "aws" },
      });
    }
    const call: UpstreamCall = { provider: "aws", operation: named.operation, metadata: { cluster_id: cluster.id, credentials: cluster.credentials } };
    let credentials;
    try {
      credentials = await raceAbort(named.provider(), signal, call);
    } catch (err) {
      throw toServiceError(err, call);
    }
    return mintEksToken({ credentials, region: cluster.region, clusterName: cluster.name, now: this.now() });
  }
}

const networkErrorCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

/** Maps an AWS SDK or credential-chain failure to a portable error. */
function toServiceError(err: unknown, call: UpstreamCall): ServiceError {
  if (isServiceError(err)) return err;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $response?: unknown };
  if (e?.name === "CredentialsProviderError") {
    return new ServiceError({
      code: "FailedPrecondition",
      reason: "CREDENTIALS_UNAVAILABLE",
      message: `aws ${call.operation} found no usable credentials`,
      metadata: { provider: "aws", ...call.metadata },
      cause: err,
    });
  }
  if (isThrottlingError(err as never)) return upstreamThrottled(call, err);
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400) return upstreamHttpError(call, status, err);
  if (networkErrorCodes.has(e?.code ?? "") || e?.name === "TimeoutError" || isTransientError(err as never)) return upstreamUnreachable(call, err);
  return upstreamBadResponse(call, err);
}

import { abandonedError } from "../../errors/upstream-error.js";
import type { MintedToken, TokenDriver } from "../driver.js";
import { mintAckToken } from "./ack-token.js";
import type { Clock } from "../../common/clock.js";
import { type AlibabaCluster, alibabaProviderName } from "./alibaba-config.js";
import type { AlibabaCredentials } from "./alibaba-credentials.js";

/** The Alibaba Cloud ACK token driver: tokens are signed locally, with the AccessKey pair or an assumed role's STS keys. */
export class AckTokenDriver implements TokenDriver<AlibabaCluster> {
  constructor(
    private readonly credentials: AlibabaCredentials,
    private readonly clock: Clock,
  ) {}

  async mintToken(cluster: AlibabaCluster, signal: AbortSignal): Promise<MintedToken> {
    if (signal.aborted)
      throw abandonedError({ provider: alibabaProviderName, operation: "token", metadata: { cluster_id: cluster.id } }, signal);
    const keys = await this.credentials.keysFor(cluster, signal);
    return mintAckToken({ keys, clusterId: cluster.clusterId, now: new Date(this.clock.now()) });
  }
}

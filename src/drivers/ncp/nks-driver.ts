import type { Clock } from "../../common/clock.js";
import { type NcpCredentialConfig, type NcpCluster, ncpProviderName } from "./ncp-config.js";
import type { MintedToken, TokenDriver } from "../driver.js";
import { abandonedError } from "../../errors/upstream-error.js";
import { ncpKeysFor } from "./ncp-credentials.js";
import { mintNksToken } from "./nks-token.js";

/** The NAVER Cloud NKS token driver: tokens are signed locally with the configured key pair. */
export class NksTokenDriver implements TokenDriver<NcpCluster> {
  constructor(
    private readonly credentials: ReadonlyMap<string, NcpCredentialConfig>,
    private readonly clock: Clock,
  ) {}

  async mintToken(cluster: NcpCluster, signal: AbortSignal): Promise<MintedToken> {
    if (signal.aborted)
      throw abandonedError({ provider: ncpProviderName, operation: "token", metadata: { cluster_id: cluster.id } }, signal);
    const keys = await ncpKeysFor(this.credentials, cluster);
    return mintNksToken({ ...keys, clusterUuid: cluster.uuid, region: cluster.region, now: new Date(this.clock.now()) });
  }
}

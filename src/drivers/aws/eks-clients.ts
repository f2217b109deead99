import { EKSClient } from "@aws-sdk/client-eks";
import type { ProviderOptions } from "../driver.js";
import { awsClientTuning, type AwsCredentialSource } from "./aws-credentials.js";

/** Where an EKS API request goes and whose credentials sign it. */
export interface EksTarget {
  /** The name of the `credentials` entry, which keys the client with the two below. */
  readonly credentials: string;
  readonly region: string;
  /** The EKS API's base URL instead of the region's own (sovereign clouds, tests). */
  readonly apiEndpoint?: string | undefined;
}

/**
 * The EKS SDK clients of the describer and the lister: one per credentials entry,
 * region and endpoint, all of them named by the config, so that connections and
 * resolved credentials are reused and the map stays as small as the config.
 */
export class EksClients {
  private readonly clients = new Map<string, EKSClient>();

  constructor(private readonly options: ProviderOptions) {}

  /** The client for `target`, signing with `source`, the target's credentials. */
  for(target: EksTarget, source: AwsCredentialSource): EKSClient {
    const key = `${target.credentials}\n${target.region}\n${target.apiEndpoint ?? ""}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new EKSClient({
        region: target.region,
        credentials: source.provider,
        ...(target.apiEndpoint ? { endpoint: target.apiEndpoint } : {}),
        ...awsClientTuning(this.options),
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** Releases every client's connections. */
  close(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

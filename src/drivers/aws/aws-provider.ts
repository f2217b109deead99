import type { AwsCredentialConfig } from "../../config/config-schema.js";
import type { ClusterOf, ProviderDrivers, ProviderOptions } from "../driver.js";
import { createAwsCredentialSources } from "./aws-credentials.js";
import { EksClusterDescriber } from "./eks-describer.js";
import { EksTokenDriver } from "./eks-driver.js";

/** The AWS drivers, sharing one set of credential sources so that assumed roles are cached once. */
export function createAwsProvider(
  credentials: Readonly<Record<string, AwsCredentialConfig>>,
  options: ProviderOptions,
): ProviderDrivers<ClusterOf<"aws">> {
  const sources = createAwsCredentialSources(credentials, options);
  const describer = new EksClusterDescriber(sources, options.upstreamTimeoutMs);
  return {
    token: new EksTokenDriver(sources, options.now),
    describer,
    close() {
      describer.close();
      for (const source of sources.values()) source.close();
    },
  };
}

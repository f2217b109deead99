import type { AwsCredentialConfig } from "../../config/config-schema.js";
import type { ClusterOf, ProviderDrivers } from "../driver.js";
import { createAwsCredentialSources } from "./aws-credentials.js";
import { EksClusterDescriber } from "./eks-describer.js";
import { EksTokenDriver } from "./eks-driver.js";

/** The AWS drivers, sharing one set of credential sources so that assumed roles are cached once. */
export function createAwsProvider(credentials: Readonly<Record<string, AwsCredentialConfig>>, now?: () => Date): ProviderDrivers<ClusterOf<"aws">> {
  const sources = createAwsCredentialSources(credentials);
  return { token: new EksTokenDriver(sources, now), describer: new EksClusterDescriber(sources) };
}

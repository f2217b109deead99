import { defineProvider } from "../provider-module.js";
import { awsClusterSchema, awsCredentialSchema } from "./aws-config.js";
import { createAwsCredentialSources } from "./aws-credentials.js";
import { EksClusterDescriber } from "./eks-describer.js";
import { EksTokenDriver } from "./eks-driver.js";

/** AWS EKS: tokens presigned locally, AssumeRole and DescribeCluster through the AWS SDK. */
export const awsProvider = defineProvider({
  name: "aws",
  credentialSchema: awsCredentialSchema,
  clusterSchema: awsClusterSchema,
  /** The drivers share one set of credential sources, so that assumed roles are cached once. */
  create(credentials, options) {
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
  },
});

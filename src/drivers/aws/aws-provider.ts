import { defineProvider, lazyDrivers } from "../provider-module.js";
import { awsClusterSchema, awsCredentialSchema } from "./aws-config.js";

/** AWS EKS: tokens presigned locally, AssumeRole and DescribeCluster through the AWS SDK (imported once configured). */
export const awsProvider = defineProvider({
  name: "aws",
  credentialSchema: awsCredentialSchema,
  clusterSchema: awsClusterSchema,
  /** The drivers share one set of credential sources, so that assumed roles are cached once. */
  create(credentials, options) {
    return lazyDrivers(async () => {
      const [{ createAwsCredentialSources }, { EksClusterDescriber }, { EksTokenDriver }] = await Promise.all([
        import("./aws-credentials.js"),
        import("./eks-describer.js"),
        import("./eks-driver.js"),
      ]);
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
    });
  },
});

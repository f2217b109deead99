import { defineProvider } from "../provider-module.js";
import { lazyDrivers } from "../lazy-drivers.js";
import { awsClusterSchema, awsCredentialSchema, awsProviderName } from "./aws-config.js";

/** AWS EKS: tokens presigned locally, AssumeRole and DescribeCluster through the AWS SDK (imported once configured). */
export const awsProvider = defineProvider({
  name: awsProviderName,
  credentialSchema: awsCredentialSchema,
  clusterSchema: awsClusterSchema,
  secretShapes: {
    patterns: [
      // EKS tokens: `k8s-aws-v1.` (eks-token.ts, which loads the SDK) and the base64url of a presigned URL.
      /k8s-aws-v1\.[\w+/=-]+/g,
      // Access key ids: long-term (AKIA) and temporary (ASIA).
      /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    ],
    fields: ["secretAccessKey", "sessionToken", "SecretAccessKey", "SessionToken"],
  },
  placement: ({ region, name }) => ({ region, name }),
  /** The drivers share one set of credential sources, so that assumed roles are cached once. */
  create(credentials, options) {
    return lazyDrivers(async () => {
      const [{ createAwsCredentialSources }, { EksClusterDescriber }, { EksTokenDriver }] = await Promise.all([
        import("./aws-credentials.js"),
        import("./eks-describer.js"),
        import("./eks-driver.js"),
      ]);
      const sources = createAwsCredentialSources(credentials, options);
      const describer = new EksClusterDescriber(sources, options);
      return {
        token: new EksTokenDriver(sources, options.clock),
        describer,
        close() {
          describer.close();
          for (const source of sources.values()) source.close();
        },
      };
    });
  },
});

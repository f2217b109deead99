import { defineProvider } from "../provider-module.js";
import { lazyDrivers } from "../lazy-drivers.js";
import { awsAccountSchema, awsClusterSchema, awsCredentialSchema, awsProviderName } from "./aws-config.js";

/**
 * AWS EKS: tokens presigned locally, AssumeRole, DescribeCluster and ListClusters
 * through the AWS SDK (imported once configured), tags in bulk by the Resource
 * Groups Tagging API.
 */
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
  discovery: { accountSchema: awsAccountSchema, filterKey: "tags", scopes: (account) => account.regions },
  placement: ({ region, name }) => ({ region, name }),
  /** The drivers share one set of credential sources and EKS clients, so that assumed roles are cached once. */
  create(credentials, options) {
    return lazyDrivers(
      async () => {
        const [{ createAwsCredentialSources }, { EksClients }, { EksClusterDescriber }, { EksTokenDriver }, { EksClusterLister }] =
          await Promise.all([
            import("./aws-credentials.js"),
            import("./eks-clients.js"),
            import("./eks-describer.js"),
            import("./eks-driver.js"),
            import("./eks-lister.js"),
          ]);
        const sources = createAwsCredentialSources(credentials, options);
        const clients = new EksClients(options);
        return {
          token: new EksTokenDriver(sources, options.clock),
          describer: new EksClusterDescriber(sources, clients),
          lister: new EksClusterLister(sources, clients, options),
          close() {
            clients.close();
            for (const source of sources.values()) source.close();
          },
        };
      },
      { lister: true },
    );
  },
});

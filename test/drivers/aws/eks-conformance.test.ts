import type { AwsCredentialConfig } from "../../../src/drivers/aws/aws-config.js";
import { awsProvider } from "../../../src/drivers/aws/aws-provider.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { startFakeEks } from "../../fakes/fake-eks.js";
import { startFakeSts } from "../../fakes/fake-sts.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import { runConformance } from "../drivertest.js";

const base = { accessKeyId: "AKIACONFORMANCE00001", secretAccessKey: "conformance/Secret+Key0123456789abcdefghij" };
const roleArn = "arn:aws:iam::123456789012:role/conformance";
const readonlyRoleArn = "arn:aws:iam::123456789012:role/conformance-readonly";
process.env.CTS_CONF_AWS_AKID = base.accessKeyId;
process.env.CTS_CONF_AWS_SECRET = base.secretAccessKey;

runConformance<ClusterOf<"aws">>({
  name: "AWS EKS",
  async setUp() {
    // Far from the wall clock: a signature or expiry made by the wall clock anywhere, the SDK's included, is refused.
    const clock = new FakeClock();
    const sts = await startFakeSts({
      keys: { [base.accessKeyId]: { secretAccessKey: base.secretAccessKey } },
      roles: { [roleArn]: { trustedKeys: [base.accessKeyId] }, [readonlyRoleArn]: { trustedKeys: [base.accessKeyId] } },
      clock,
    });
    const eks = await startFakeEks({
      region: "us-west-2",
      keys: sts.keys,
      clock,
      clusters: {
        alpha: { endpoint: "https://ALPHA0123.gr7.us-west-2.eks.amazonaws.com", caData: testCaData },
        beta: { endpoint: "https://BETA0123.gr7.us-west-2.eks.amazonaws.com", caData: testCaData },
      },
    });
    const keys = { accessKeyId: { env: "CTS_CONF_AWS_AKID" }, secretAccessKey: { env: "CTS_CONF_AWS_SECRET" } };
    const credentials: Record<string, AwsCredentialConfig> = {
      issuer: { provider: "aws", ...keys, roleArn, stsEndpoint: sts.url },
      readonly: { provider: "aws", ...keys, roleArn: readonlyRoleArn, stsEndpoint: sts.url },
      broken: { provider: "aws", ...keys, secretAccessKey: { env: "CTS_CONF_AWS_UNSET" } },
    };
    const cluster = (id: string, name: string, creds = "issuer"): ClusterOf<"aws"> => ({
      id,
      provider: "aws",
      region: "us-west-2",
      name,
      displayName: "",
      labels: {},
      credentials: creds,
      apiEndpoint: eks.url,
    });
    return {
      clock,
      provider: awsProvider,
      newDrivers: () =>
        awsProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }) as Required<ProviderDrivers<ClusterOf<"aws">>>,
      clusterA: cluster("alpha-eks", "alpha"),
      clusterB: cluster("beta-eks", "beta"),
      missingCluster: cluster("gamma-eks", "gamma"),
      unresolvableCluster: cluster("broken-eks", "alpha", "broken"),
      identities: { own: roleArn, other: readonlyRoleArn, credentials: "readonly" },
      verify: (token, c) => sts.verifyEksToken(token, c.name, c.region),
      bindsTokensToCluster: true,
      lifetimeMs: { min: 14 * 60_000 - 2_000, max: 14 * 60_000 },
      expectedAccessA: { server: "https://ALPHA0123.gr7.us-west-2.eks.amazonaws.com", certificateAuthorityData: testCaData },
      mintUpstream: sts,
      describeUpstream: eks,
      secrets: [base.secretAccessKey],
      close: async () => {
        await eks.close();
        await sts.close();
      },
    };
  },
});

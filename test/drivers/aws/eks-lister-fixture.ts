import type { AwsAccount, AwsCredentialConfig } from "../../../src/drivers/aws/aws-config.js";
import { awsProvider } from "../../../src/drivers/aws/aws-provider.js";
import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import type { ProviderDrivers } from "../../../src/drivers/driver.js";
import { type FakeEks, startFakeEks } from "../../fakes/fake-eks.js";
import { type FakeSts, startFakeSts } from "../../fakes/fake-sts.js";
import { FakeClock } from "../../support/fake-clock.js";

/** The long-term keys the fixture's STS knows; its role trusts them. */
export const listerKeys = { accessKeyId: "AKIALISTERCONFORM001", secretAccessKey: "lister/Secret+Key0123456789abcdefghijkl" };
const roleArn = "arn:aws:iam::123456789012:role/cluster-lister";
process.env.CTS_LISTER_AWS_AKID = listerKeys.accessKeyId;
process.env.CTS_LISTER_AWS_SECRET = listerKeys.secretAccessKey;

/** A fake EKS and Tagging API serving two regions, a fake STS, and an account listed through an assumed role. */
export interface EksListerFixture {
  clock: FakeClock;
  sts: FakeSts;
  eks: FakeEks;
  /** `lister` assumes the role; `static` signs with the keys; `broken` names an unset variable. */
  credentials: Record<string, AwsCredentialConfig>;
  /** us-west-2 and eu-west-1, no tags, both APIs at the fake's URL. */
  account: AwsAccount;
  /** Fresh drivers of the provider, on the fixture's clock. */
  drivers(): ProviderDrivers<never>;
  lister(): ClusterLister<AwsAccount>;
  close(): Promise<void>;
}

/** Starts the fakes on one fake clock far from the wall clock, so that anything signed by the wall clock is refused. */
export async function startEksListerFixture(pageSize?: number): Promise<EksListerFixture> {
  const clock = new FakeClock();
  const sts = await startFakeSts({
    keys: { [listerKeys.accessKeyId]: { secretAccessKey: listerKeys.secretAccessKey } },
    roles: { [roleArn]: { trustedKeys: [listerKeys.accessKeyId] } },
    clock,
  });
  const eks = await startFakeEks({
    region: "us-west-2",
    regions: { "eu-west-1": {} },
    keys: sts.keys,
    clusters: {},
    clock,
    ...(pageSize ? { pageSize } : {}),
  });
  const keys = { accessKeyId: { env: "CTS_LISTER_AWS_AKID" }, secretAccessKey: { env: "CTS_LISTER_AWS_SECRET" } };
  const credentials: Record<string, AwsCredentialConfig> = {
    lister: { provider: "aws", ...keys, roleArn, stsEndpoint: sts.url },
    static: { provider: "aws", ...keys },
    broken: { provider: "aws", ...keys, secretAccessKey: { env: "CTS_LISTER_AWS_UNSET" } },
  };
  const drivers = () => awsProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock });
  return {
    clock,
    sts,
    eks,
    credentials,
    account: {
      id: "acme",
      provider: "aws",
      credentials: "lister",
      regions: ["us-west-2", "eu-west-1"],
      tags: {},
      pollSeconds: 300,
      idTemplate: "{name}.{region}.{account}",
      apiEndpoint: eks.url,
    },
    drivers,
    lister: () => drivers().lister as ClusterLister<AwsAccount>,
    close: async () => {
      await eks.close();
      await sts.close();
    },
  };
}

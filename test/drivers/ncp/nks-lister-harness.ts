import { randomUUID } from "node:crypto";
import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import { type NcpAccount, type NcpCredentialConfig, ncpAccountSchema } from "../../../src/drivers/ncp/ncp-config.js";
import { ncpProvider } from "../../../src/drivers/ncp/ncp-provider.js";
import { type FakeNcp, nksStage, startFakeNcp } from "../../fakes/fake-ncp.js";
import { FakeClock } from "../../support/fake-clock.js";
import { testCaData } from "../../support/test-config.js";
import type { ListerHarness, ListerHarnessEnv } from "../listertest.js";

const keys = { accessKey: "NCPLISTERKEY00000001", secretKey: "ncp-lister-secret-0123456789abcdef" };
process.env.CTS_NKS_LISTER_ACCESS = keys.accessKey;
process.env.CTS_NKS_LISTER_SECRET = keys.secretKey;

/** What the NKS lister harness gives tests besides the contract's: the fake NAVER Cloud. */
export type NksListerEnv = ListerHarnessEnv<NcpAccount> & { ncp: FakeNcp };

/**
 * The lister harness of NAVER Cloud: an account of two regions on different stages
 * (KR on `v2`, SGN on `sgn-v2`), signing with the gateway's HMAC against the fake
 * NCP, on one fake clock. NKS answers a region's clusters in one response, and its
 * clusters carry no tags.
 */
export const nksListerHarness: ListerHarness<NcpAccount> = { name: "NAVER Cloud NKS", labels: false, setUp: () => setUpNksLister() };

/** Sets up the harness's account, lister and fake; see {@link nksListerHarness}. */
export async function setUpNksLister(): Promise<NksListerEnv> {
  const clock = new FakeClock();
  const ncp = await startFakeNcp({ clock, keys: { [keys.accessKey]: keys.secretKey }, clusters: {} });
  const credentials: Record<string, NcpCredentialConfig> = {
    lister: { provider: "ncp", accessKey: { env: "CTS_NKS_LISTER_ACCESS" }, secretKey: { env: "CTS_NKS_LISTER_SECRET" } },
    broken: { provider: "ncp", accessKey: { env: "CTS_NKS_LISTER_ACCESS" }, secretKey: { env: "CTS_NKS_LISTER_UNSET" } },
  };
  const account = ncpAccountSchema.parse({
    id: "naver",
    provider: "ncp",
    credentials: "lister",
    apiEndpoint: ncp.url,
    regions: ["KR", "SGN"],
  });
  const uuids = new Map<string, string>(); // "region/name" → UUID, so that a relabelling replaces the cluster
  return {
    clock,
    ncp,
    provider: ncpProvider,
    newLister: () => ncpProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }).lister as ClusterLister<NcpAccount>,
    account,
    brokenAccount: { ...account, credentials: "broken" },
    fake: {
      server: ncp,
      addCluster(region, name) {
        const uuid = uuids.get(`${region}/${name}`) ?? randomUUID().toUpperCase();
        uuids.set(`${region}/${name}`, uuid);
        ncp.putCluster(uuid, {
          region,
          name,
          server: `https://${uuid.toLowerCase()}.${region.toLowerCase()}.vnks.ntruss.com`,
          caData: testCaData,
        });
        return region;
      },
      removeCluster(region, name) {
        const uuid = uuids.get(`${region}/${name}`);
        if (uuid) ncp.deleteCluster(uuid);
      },
      failPage: (region, page, fault) => ncp.faults.failPage(nksStage(region), page, fault),
      denyScope: (region) => ncp.faults.deny(nksStage(region)),
      partialScope: (region) => ncp.faults.makePartial(nksStage(region)),
      apiRequests: () => ncp.counts.total(),
      reset() {
        ncp.reset();
        uuids.clear();
      },
    },
    // One unpaged answer per region, whatever it holds; a lookup is that answer searched.
    requestsPerListing: () => 1,
    maxRequestsPerLookup: 1,
    secrets: [keys.secretKey],
    close: () => ncp.close(),
  };
}

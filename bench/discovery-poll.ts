import { awsAccount, type BenchClouds } from "./discovery-clouds.js";
import { discoveringServer, until } from "./discovery-server.js";

/** The region a SigV4 request was signed for. */
const regionOf = (authorization: string | undefined) => /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? "")?.[1] ?? "";

/** The requests a steady poll of an unchanged account of 2,000 clusters in 2 regions makes, counted at the fake EKS, in three shapes. */
export async function steadyPoll(clouds: BenchClouds, pem: Buffer): Promise<string[]> {
  const n = 2_000;
  const shapes = [
    {
      account: awsAccount(clouds, pem, "poll-filter", ["ca-central-1", "sa-east-1"], n, { filter: true, pollSeconds: 10 }),
      what: "a `tags` filter",
    },
    {
      account: awsAccount(clouds, pem, "poll-untagged", ["eu-north-1", "eu-south-1"], n, { tagged: false, pollSeconds: 10 }),
      what: "no filter, clusters never tagged",
    },
    {
      account: awsAccount(clouds, pem, "poll-tagged", ["eu-west-2", "eu-west-3"], n, { pollSeconds: 10 }),
      what: "no filter, every cluster tagged",
    },
  ];
  const server = await discoveringServer(
    clouds,
    shapes.map((s) => s.account),
    { metrics: true },
  );
  try {
    const scrape = async () => (await fetch(`http://${server.server.metrics}/metrics`)).text();
    const listings = async () =>
      [
        ...(await scrape()).matchAll(
          /^cluster_token_discovery_listings_total\{account="poll-[^"]+",scope="[^"]+",code="OK",reason=""\} (\d+)$/gm,
        ),
      ].map((m) => Number(m[1]));
    const counted = (times: number) =>
      until(
        async () => {
          const done = await listings();
          return done.length === 6 && done.every((c) => c >= times);
        },
        60_000,
        `every poll account listing ${times} times`,
      );
    const perRegion = () => {
      const counts = new Map<string, number>();
      for (const request of clouds.eks.requests)
        counts.set(regionOf(request.headers.authorization), (counts.get(regionOf(request.headers.authorization)) ?? 0) + 1);
      return counts;
    };
    await counted(1);
    const before = perRegion();
    await counted(2);
    const after = perRegion();
    return shapes.map(({ account, what }) => {
      const regions = account.entry.regions as string[];
      const requests = regions.reduce((sum, r) => sum + (after.get(r) ?? 0) - (before.get(r) ?? 0), 0);
      const bound = Math.ceil(n / 100) + regions.length;
      return `| upstream requests of a steady poll of an unchanged AWS account of ${n.toLocaleString("en-US")} clusters in ${regions.length} regions, ${what} | **${requests}** (bound ⌈N / 100⌉ + regions = ${bound}) ${requests <= bound ? "✓" : "✗"} | ≤ ⌈N / page size⌉ + regions |`;
    });
  } finally {
    await server.server.stop();
  }
}

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestServiceAccount, type FakeGcp, startFakeGcp } from "../test/fakes/fake-gcp.js";
import { type FakeEks, startFakeEks } from "../test/fakes/fake-eks.js";
import { benchAwsKeys } from "./server-process.js";

/** An account of the benchmark: its `accounts` entry, and the ids of the clusters it holds. */
export interface BenchAccount {
  readonly entry: Record<string, unknown>;
  readonly ids: readonly string[];
}

/** The benchmark's fake clouds: an EKS and Tagging API and a Google Cloud, verifying as in the tests. */
export interface BenchClouds {
  readonly eks: FakeEks;
  readonly gcp: FakeGcp;
  /** Adds the clouds' credentials entries (`bench`, the AWS keys, is the server's own) and accounts to a server's config. */
  configure(config: Record<string, unknown>, dir: string, accounts: readonly BenchAccount[]): Promise<void>;
  close(): Promise<void>;
}

const ca = (pem: Buffer) => pem.toString("base64");
const gcpServiceAccount = createTestServiceAccount("cluster-token-bench@bench-proj-a1.iam.gserviceaccount.com");

/** Starts the fake clouds, holding nothing yet; the wall clock is theirs, as the server's. */
export async function startBenchClouds(): Promise<BenchClouds> {
  const keys = new Map([[benchAwsKeys.accessKeyId, { secretAccessKey: benchAwsKeys.secretAccessKey }]]);
  const eks = await startFakeEks({ region: "us-west-2", keys, clusters: {} });
  const gcp = await startFakeGcp({ serviceAccounts: [gcpServiceAccount], clusters: {} });
  return {
    eks,
    gcp,
    async configure(config, dir, accounts) {
      const keyFile = join(dir, "gcp-key.json");
      await writeFile(keyFile, gcpServiceAccount.keyFile, { mode: 0o600 });
      const credentials = config.credentials as Record<string, unknown>;
      credentials.gke = { provider: "gcp", serviceAccountKey: { file: keyFile }, tokenEndpoint: gcp.tokenUrl };
      config.accounts = accounts.map((account) => account.entry);
    },
    close: async () => {
      await eks.close();
      await gcp.close();
    },
  };
}

/**
 * An AWS account of `count` clusters spread over `regions` of the fake EKS, each
 * tagged (`tagged`) or not; listed every `pollSeconds`, with a tag filter when `filter`.
 */
export function awsAccount(
  clouds: BenchClouds,
  caPem: Buffer,
  id: string,
  regions: readonly string[],
  count: number,
  options: { tagged?: boolean; filter?: boolean; pollSeconds?: number } = {},
): BenchAccount {
  const { tagged = true, filter = false, pollSeconds = 300 } = options;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const region = regions[i % regions.length] as string;
    const name = `${id}-c${String(i).padStart(5, "0")}`;
    clouds.eks.addCluster(region, name, {
      endpoint: `https://${name}.gr7.${region}.eks.amazonaws.com`,
      caData: ca(caPem),
      ...(tagged ? { tags: { env: "bench", shard: String(i % 16) } } : {}),
    });
    ids.push(`${name}.${region}.${id}`);
  }
  const entry = {
    id,
    provider: "aws",
    credentials: "bench",
    regions,
    apiEndpoint: clouds.eks.url,
    pollSeconds,
    ...(filter ? { tags: { env: "bench" } } : {}),
  };
  return { entry, ids };
}

/** A Google Cloud account of `count` clusters spread over `projects` of the fake (in zone us-central1-a), labelled. */
export function gcpAccount(clouds: BenchClouds, caPem: Buffer, id: string, projects: readonly string[], count: number): BenchAccount {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const project = projects[i % projects.length] as string;
    const name = `${id}-c${String(i).padStart(5, "0")}`;
    clouds.gcp.addCluster(project, "us-central1-a", name, {
      endpoint: `10.${i >> 8}.${i & 255}.1`,
      caData: ca(caPem),
      labels: { env: "bench" },
    });
    ids.push(`${name}.us-central1-a.${id}`);
  }
  return { entry: { id, provider: "gcp", credentials: "gke", projects, apiEndpoint: clouds.gcp.url }, ids };
}

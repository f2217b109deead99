import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterLister } from "../../../src/drivers/cluster-lister.js";
import type { GcpAccount, GcpCredentialConfig } from "../../../src/drivers/gcp/gcp-config.js";
import { gcpProvider } from "../../../src/drivers/gcp/gcp-provider.js";
import { createTestServiceAccount, type FakeGcp, startFakeGcp, type TestServiceAccount } from "../../fakes/fake-gcp.js";
import { FakeClock } from "../../support/fake-clock.js";

/** A fake Google Cloud, a service account whose key file it knows, and an account of two projects in every location. */
export interface GkeListerFixture {
  clock: FakeClock;
  gcp: FakeGcp;
  serviceAccount: TestServiceAccount;
  /** `lister` reads the key file; `broken` names an unset variable. */
  credentials: Record<string, GcpCredentialConfig>;
  account: GcpAccount;
  lister(): ClusterLister<GcpAccount>;
  close(): Promise<void>;
}

/**
 * Starts the fake on a fake clock that starts at the wall clock: google-auth-library
 * signs its JWT assertion by the wall clock and takes no clock.
 */
export async function startGkeListerFixture(): Promise<GkeListerFixture> {
  const clock = new FakeClock(Date.now());
  const serviceAccount = createTestServiceAccount("cluster-lister@proj-lister-one.iam.gserviceaccount.com");
  const gcp = await startFakeGcp({ clock, serviceAccounts: [serviceAccount], clusters: {} });
  const keyFile = join(await mkdtemp(join(tmpdir(), "cts-gke-lister-")), "key.json");
  await writeFile(keyFile, serviceAccount.keyFile, { mode: 0o600 });
  const credentials: Record<string, GcpCredentialConfig> = {
    lister: { provider: "gcp", serviceAccountKey: { file: keyFile }, tokenEndpoint: gcp.tokenUrl },
    broken: { provider: "gcp", serviceAccountKey: { env: "CTS_LISTER_GCP_UNSET" }, tokenEndpoint: gcp.tokenUrl },
  };
  return {
    clock,
    gcp,
    serviceAccount,
    credentials,
    account: {
      id: "acme",
      provider: "gcp",
      credentials: "lister",
      projects: ["proj-lister-one", "proj-lister-two"],
      locations: ["-"],
      tags: {},
      pollSeconds: 300,
      idTemplate: "{name}.{region}.{account}",
      apiEndpoint: gcp.url,
    },
    lister: () => gcpProvider.create(credentials, { upstreamTimeoutMs: 10_000, clock }).lister as ClusterLister<GcpAccount>,
    close: () => gcp.close(),
  };
}

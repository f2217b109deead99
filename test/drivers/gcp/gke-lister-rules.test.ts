import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { gcpProvider } from "../../../src/drivers/gcp/gcp-provider.js";
import { GcpCredentialSource } from "../../../src/drivers/gcp/gcp-credentials.js";
import { gkeGet } from "../../../src/drivers/gcp/gke-api.js";
import { startFakeServer } from "../../fakes/fake-http-server.js";
import { serviceFailure } from "../../support/service-failure.js";
import { testCaData } from "../../support/test-config.js";
import { type GkeListerFixture, startGkeListerFixture } from "./gke-lister-fixture.js";

const never = () => new AbortController().signal;
const names = (listed: readonly { name: string }[]) => listed.map((c) => c.name).sort();
const running = (labels: Record<string, string> = {}) => ({ endpoint: "34.1.2.3", caData: testCaData, labels });

describe("GKE lister: what a poll asks Google, and what it makes of the answers", () => {
  let f: GkeListerFixture;
  before(async () => {
    f = await startGkeListerFixture();
  });
  after(() => f.close());
  beforeEach(() => f.gcp.reset());

  it("rejects a listing with missingZones as UPSTREAM_PARTIAL_LISTING, naming at most five zones", async () => {
    f.gcp.addCluster("proj-lister-one", "us-central1-a", "kept", running());
    const zones = ["us-central1-b", "us-central1-c", "us-central1-f", "europe-west1-b", "europe-west1-c", "asia-east1-a"];
    f.gcp.missingZones("proj-lister-one", zones);
    const err = await serviceFailure(f.lister().listScope(f.account, "proj-lister-one/-", never()));
    assert.equal(err.code, "Unavailable");
    assert.equal(err.reason, "UPSTREAM_PARTIAL_LISTING");
    assert.match(err.message, /without zones us-central1-b, us-central1-c, us-central1-f, europe-west1-b, europe-west1-c, …/);
    assert.deepEqual(err.metadata, {
      provider: "gcp",
      operation: "container:clusters.list",
      account_id: "acme",
      scope: "proj-lister-one/-",
    });
  });

  it("has one scope per project and location, and lists a location alone; a lookup elsewhere costs nothing", async () => {
    const account = { ...f.account, locations: ["us-central1", "europe-west1-b"] };
    assert.deepEqual(gcpProvider.discovery?.scopes(account), [
      "proj-lister-one/us-central1",
      "proj-lister-one/europe-west1-b",
      "proj-lister-two/us-central1",
      "proj-lister-two/europe-west1-b",
    ]);
    f.gcp.addCluster("proj-lister-one", "us-central1", "regional", running());
    f.gcp.addCluster("proj-lister-one", "europe-west1-b", "zonal", running());
    f.gcp.addCluster("proj-lister-one", "asia-east1", "elsewhere", running());
    const lister = f.lister();
    assert.deepEqual(names(await lister.listScope(account, "proj-lister-one/us-central1", never())), ["regional"]);
    const before = f.gcp.calls.get;
    assert.equal(await lister.lookup(account, "elsewhere", "asia-east1", never()), undefined);
    assert.equal(f.gcp.calls.get, before);
  });

  it("carries endpoint, CA and location from the listing, and neither endpoint nor CA for a cluster still provisioning", async () => {
    f.gcp.addCluster("proj-lister-two", "us-central1", "ready", running({ env: "prod" }));
    f.gcp.addCluster("proj-lister-two", "us-central1", "new", { endpoint: "", caData: "", status: "PROVISIONING" });
    const listed = await f.lister().listScope(f.account, "proj-lister-two/-", never());
    assert.deepEqual(
      listed.map((c) => c.entry),
      [
        {
          project: "proj-lister-two",
          region: "us-central1",
          name: "ready",
          endpoint: "https://34.1.2.3",
          certificateAuthorityData: testCaData,
        },
        { project: "proj-lister-two", region: "us-central1", name: "new" },
      ],
    );
    assert.deepEqual(listed[0]?.labels, { env: "prod" });
  });

  it("serves no lookup of a name two projects hold at one location: a collision, as the poll reports it", async () => {
    f.gcp.addCluster("proj-lister-one", "us-central1", "twin", running());
    f.gcp.addCluster("proj-lister-two", "us-central1", "twin", running());
    const before = f.gcp.calls.get;
    assert.equal(await f.lister().lookup(f.account, "twin", "us-central1", never()), undefined);
    assert.equal(f.gcp.calls.get - before, 2);
    f.gcp.removeCluster("proj-lister-one", "us-central1", "twin");
    assert.equal((await f.lister().lookup(f.account, "twin", "us-central1", never()))?.entry.project, "proj-lister-two");
  });

  it("fails a lookup when one project refuses, even if another has no such cluster: 'not found' needs every answer", async () => {
    f.gcp.denyProject("proj-lister-two");
    const err = await serviceFailure(f.lister().lookup(f.account, "absent", "us-central1", never()));
    assert.equal(err.reason, "UPSTREAM_PERMISSION_DENIED");
  });

  it("rejects an answer that is not what the API promises: a cluster without a name", async () => {
    const broken = await startFakeServer(() => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ clusters: [{ location: "us-central1" }] }),
    }));
    try {
      const err = await serviceFailure(f.lister().listScope({ ...f.account, apiEndpoint: broken.url }, "proj-lister-one/-", never()));
      assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
    } finally {
      await broken.close();
    }
  });

  it("never sends its bearer token after a redirect", async () => {
    const elsewhere = await startFakeServer(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{}" }));
    const redirecting = await startFakeServer(() => ({ status: 302, headers: { location: `${elsewhere.url}/v1/clusters` }, body: "" }));
    try {
      const account = { ...f.account, apiEndpoint: redirecting.url };
      await serviceFailure(f.lister().listScope(account, "proj-lister-one/-", never()));
      assert.equal(redirecting.requests.length, 1);
      assert.equal(elsewhere.requests.length, 0);
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });

  it("stops reading an answer at its size cap, declared or not: UPSTREAM_BAD_RESPONSE", async () => {
    const large = `{"clusters":[${Array.from({ length: 400 }, () => '{"name":"x","location":"us-central1"}').join(",")}]}`;
    const server = await startFakeServer((req) =>
      req.url.pathname === "/declared"
        ? { status: 200, headers: { "content-type": "application/json", "content-length": String(large.length) }, body: large }
        : { status: 200, headers: { "content-type": "application/json", "transfer-encoding": "chunked" }, body: large },
    );
    try {
      const source = new GcpCredentialSource(f.credentials.lister!, { upstreamTimeoutMs: 10_000, clock: f.clock });
      const call = { provider: "gcp", operation: "container:clusters.list" };
      for (const path of ["/declared", "/chunked"]) {
        const err = await serviceFailure(gkeGet(source, call, `${server.url}${path}`, never(), 4096));
        assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE", path);
      }
      assert.equal((await gkeGet<{ clusters: unknown[] }>(source, call, `${server.url}/chunked`, never(), 64 * 1024)).clusters.length, 400);
    } finally {
      await server.close();
    }
  });

  it("is refused by the fake with a token it never issued, or that expired", async () => {
    const list = (token: string) =>
      fetch(`${f.gcp.url}/v1/projects/proj-lister-one/locations/-/clusters`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await list("ya29.fake-never-issued")).status, 401);
    await f.lister().listScope(f.account, "proj-lister-one/-", never());
    const [token] = [...f.gcp.issued.keys()].slice(-1);
    assert.equal((await list(token!)).status, 200);
    f.clock.advance(3600_000);
    assert.equal((await list(token!)).status, 401);
  });
});

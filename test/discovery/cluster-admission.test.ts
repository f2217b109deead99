import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AccountBase } from "../../src/config/schema-parts.js";
import { type AdmissionContext, admit, type Candidate, type Refusal } from "../../src/discovery/cluster-admission.js";
import { defaultIdTemplate, IdTemplate } from "../../src/discovery/id-template.js";
import type { ListedCluster } from "../../src/drivers/cluster-lister.js";
import { awsProvider } from "../../src/drivers/aws/aws-provider.js";
import { testCaData } from "../support/test-config.js";

const account: AccountBase = {
  id: "acme",
  provider: "aws",
  credentials: "base",
  tags: { env: "prod" },
  pollSeconds: 300,
  idTemplate: defaultIdTemplate,
  maxClusters: 100,
  apiEndpoint: "http://127.0.0.1:9",
};
const context = (generation = 1): AdmissionContext => ({
  account,
  template: new IdTemplate(defaultIdTemplate, account.id),
  clusterSchema: awsProvider.clusterSchema,
  generation,
});
const listed = (name: string, labels: Record<string, string> = { env: "prod" }, entry: Record<string, unknown> = {}): ListedCluster => ({
  entry: { region: "us-west-2", name, ...entry },
  name,
  region: "us-west-2",
  labels,
});

function admitted(result: Candidate | Refusal | undefined): Candidate {
  assert.ok(result && !("reason" in result), JSON.stringify(result));
  return result;
}

describe("admitting a listed cluster", () => {
  it("makes a registered cluster of the provider's schema: id, provider, credentials, labels and apiEndpoint added", () => {
    const { id, cluster, labelsDropped } = admitted(
      admit(
        listed("Web_1", { env: "prod", "aws:tag": "x" }, { endpoint: "https://web.example.com", certificateAuthorityData: testCaData }),
        context(),
      ),
    );
    assert.equal(id, "web-1.us-west-2.acme");
    assert.deepEqual(cluster, {
      id,
      provider: "aws",
      region: "us-west-2",
      name: "Web_1",
      credentials: "base",
      labels: { env: "prod" },
      displayName: "",
      endpoint: "https://web.example.com",
      certificateAuthorityData: testCaData,
      apiEndpoint: "http://127.0.0.1:9",
    });
    assert.equal(labelsDropped, 1);
    assert.ok(Object.isFrozen(cluster));
  });

  it("leaves out a cluster whose tags do not match the account's filter, even when the lister did not", () => {
    assert.equal(admit(listed("web", { env: "dev" }), context()), undefined);
    assert.equal(admit(listed("web", {}), context()), undefined);
  });

  it("refuses an id that is too long or invalid, and says why", () => {
    const long = admit(listed("x".repeat(60)), context()) as Refusal;
    assert.equal(long.reason, "invalid_id");
    assert.match(long.detail, /is 75 characters long; the maximum is 63/);
    assert.equal((admit(listed("web.é"), context()) as Refusal).reason, "invalid_id");
  });

  it("refuses what the provider's schema refuses, naming the key but no value", () => {
    const refusal = admit(
      listed("web", { env: "prod" }, { endpoint: "http://plain.example.com", secretish: "s3cr3t-value" }),
      context(),
    ) as Refusal;
    assert.equal(refusal.reason, "refused_by_schema");
    assert.doesNotMatch(refusal.detail, /s3cr3t|plain\.example/);
  });

  it("reuses the cluster known under the id when the cloud says the same of it, and checks again when it does not or the account changed", () => {
    const first = admitted(admit(listed("web"), context()));
    assert.equal(admitted(admit(listed("web"), context(), first)).cluster, first.cluster);
    assert.notEqual(admitted(admit(listed("web", { env: "prod", team: "a" }), context(), first)).cluster, first.cluster);
    assert.notEqual(admitted(admit(listed("web"), context(2), first)).cluster, first.cluster, "a changed account checks again");
  });
});

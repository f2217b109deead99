import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gcpAccountSchema } from "../../../src/drivers/gcp/gcp-config.js";

const account = { id: "acme", provider: "gcp", credentials: "base", projects: ["my-project-1"] };
const problems = (input: unknown) => gcpAccountSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

describe("a gcp accounts entry", () => {
  it("lists every location of its projects by default", () => {
    assert.deepEqual(gcpAccountSchema.parse(account).locations, ["-"]);
    assert.deepEqual(gcpAccountSchema.parse({ ...account, locations: ["us-central1", "europe-west1-b"] }).locations, [
      "us-central1",
      "europe-west1-b",
    ]);
  });

  it("refuses no project, a project twice, a location that is not one, and '-' beside others", () => {
    assert.deepEqual(problems({ ...account, projects: [] }), ["projects: must name at least one project"]);
    assert.deepEqual(problems({ ...account, projects: ["my-project-1", "my-project-1"] }), ["projects: names my-project-1 twice"]);
    assert.deepEqual(problems({ ...account, locations: ["mars"] }), [
      "locations.0: must be a GKE location, a region such as us-central1 or a zone such as us-central1-a",
    ]);
    assert.deepEqual(problems({ ...account, locations: [5] }), ['locations.0: must be "-" or a GKE location such as us-central1']);
    assert.deepEqual(problems({ ...account, locations: ["-", "us-central1"] }), [
      'locations: "-" stands for every location, so it stands alone',
    ]);
  });

  it("refuses a tag filter no GKE label could match", () => {
    assert.deepEqual(problems({ ...account, tags: { env: "prod", "cost-center": "a_1", équipe: "données" } }), []);
    for (const tags of [{ Env: "prod" }, { env: "Prod" }, { "1env": "prod" }, { env: "a".repeat(64) }]) {
      assert.equal(problems({ ...account, tags }).length, 1, JSON.stringify(tags));
      assert.match(problems({ ...account, tags })[0]!, /^tags\.\S+: must be a GKE label/);
    }
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { awsAccountSchema } from "../../../src/drivers/aws/aws-config.js";

const account = { id: "acme", provider: "aws", credentials: "base", regions: ["us-west-2"] };
const problems = (input: unknown) => awsAccountSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

describe("an aws accounts entry", () => {
  it("takes regions and the keys every account has, with their defaults", () => {
    assert.deepEqual(awsAccountSchema.parse(account), {
      ...account,
      tags: {},
      pollSeconds: 300,
      idTemplate: "{name}.{region}.{account}",
    });
  });

  it("refuses no region, a region that is not one, a region twice, and every problem at once", () => {
    assert.deepEqual(problems({ ...account, regions: [] }), ["regions: must name at least one AWS region"]);
    assert.deepEqual(problems({ ...account, regions: ["us-west-2", "Oregon", "us-west-2"], zones: [] }), [
      "regions.1: must be an AWS region such as us-west-2",
      ': Unrecognized key: "zones"',
      "regions: names us-west-2 twice",
    ]);
  });

  it("refuses more tags than GetResources takes as filters (50)", () => {
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    assert.deepEqual(problems({ ...account, tags }), ["tags: may hold at most 50 tags on aws"]);
    assert.deepEqual(problems({ ...account, tags: Object.fromEntries(Object.entries(tags).slice(1)) }), []);
  });
});

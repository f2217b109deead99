import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseClusterFilter } from "../../src/core/cluster-filter.js";
import { ServiceError } from "../../src/errors/service-error.js";

const prodWeb = { provider: "aws", region: "us-west-2", labels: { env: "prod", "app.kubernetes.io/name": "web" } };
const devGke = { provider: "gcp", region: "europe-west1", labels: { env: "dev" } };

function refused(text: string, message: RegExp): void {
  assert.throws(
    () => parseClusterFilter(text),
    (err: unknown) =>
      err instanceof ServiceError && err.code === "InvalidArgument" && err.reason === "INVALID_FILTER" && message.test(err.message),
    text,
  );
}

describe("ListClusters filters", () => {
  it("matches everything when empty or blank", () => {
    for (const text of ["", "   "]) {
      const filter = parseClusterFilter(text);
      assert.ok(filter.matches(prodWeb) && filter.matches(devGke));
      assert.equal(filter.canonical, "");
    }
  });

  it("compares provider, region and labels.KEY, quoted or bare, joined by AND", () => {
    assert.ok(parseClusterFilter('provider = "aws"').matches(prodWeb));
    assert.ok(!parseClusterFilter("provider=aws").matches(devGke));
    assert.ok(parseClusterFilter("region = us-west-2 AND labels.env = prod").matches(prodWeb));
    assert.ok(!parseClusterFilter("region = us-west-2 AND labels.env = dev").matches(prodWeb));
    assert.ok(parseClusterFilter('labels.app.kubernetes.io/name = "web"').matches(prodWeb));
    assert.ok(!parseClusterFilter("labels.missing = x").matches(prodWeb));
    assert.ok(parseClusterFilter('labels.env = "with \\"quotes\\""').matches({ ...prodWeb, labels: { env: 'with "quotes"' } }));
    assert.ok(!parseClusterFilter("labels.toString = x").matches(prodWeb), "inherited keys are not labels");
  });

  it("writes equivalent filters one way, so that page tokens do not depend on the order of comparisons", () => {
    assert.equal(
      parseClusterFilter("labels.env = prod AND provider = aws").canonical,
      parseClusterFilter('provider="aws" AND labels.env="prod"').canonical,
    );
    assert.notEqual(parseClusterFilter("provider = aws").canonical, parseClusterFilter("provider = gcp").canonical);
  });

  for (const [text, message] of [
    ["provider = aws OR provider = gcp", /uses "OR" at position 16; join comparisons with AND/],
    ["NOT provider = aws", /uses NOT, which is not supported/],
    ["name = web", /cannot filter on "name"; the fields are provider, region and labels.KEY/],
    ["provider != aws", /operator "!=" is not supported at position 10; compare with =/],
    ["labels.env:prod", /operator ":" is not supported/],
    ["provider > aws", /operator ">" is not supported/],
    ["(provider = aws)", /must start each comparison with a field/],
    ["provider =", /expects a value \(it ends too soon\)/],
    ["provider = aws AND", /must start each comparison with a field .*\(it ends too soon\)/],
    ["provider = aws and region = x", /uses "and" at position 16; join comparisons with AND/],
    ["provider", /expects = \(it ends too soon\)/],
    ['provider = "aws', /expects a value at position 12/],
    ["labels. = x", /cannot filter on "labels."/],
    [`provider = ${"a".repeat(1100)}`, /is 1111 characters long; the maximum is 1024/],
  ] as const) {
    it(`refuses ${text.length > 40 ? `${text.slice(0, 40)}…` : text}, naming what is wrong`, () => refused(text, message));
  }
});

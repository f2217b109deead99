import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { maxDiscoveredLabels, sanitizeLabels } from "../../src/discovery/cluster-labels.js";
import { matchesFilter } from "../../src/drivers/listing-parts.js";

describe("discovered labels", () => {
  it("keeps ordinary tags as they are", () => {
    assert.deepEqual(sanitizeLabels({ env: "prod", "team.name": "a/b-c_d", empty: "" }), {
      labels: { empty: "", env: "prod", "team.name": "a/b-c_d" },
      dropped: 0,
    });
  });

  it("drops, never cuts or cleans, a tag with a control or format character or a 10 KB value", () => {
    const { labels, dropped } = sanitizeLabels({
      env: "prod",
      nul: "pr\u0000od",
      newline: "a\nb",
      bidi: "safe\u202Eeulav",
      zeroWidth: "pr\u200Bod",
      huge: "x".repeat(10 * 1024),
      "ke\u0007y": "v",
    });
    assert.deepEqual(labels, { env: "prod" });
    assert.equal(dropped, 6);
  });

  it("drops keys that are not label keys (system tags, spaces, too long) and keeps at most 64, the first by key", () => {
    const tags: Record<string, string> = { "aws:cloudformation:stack-name": "s", "has space": "x", ["k".repeat(64)]: "long" };
    for (let i = 0; i < 100; i++) tags[`t${String(i).padStart(3, "0")}`] = String(i);
    const { labels, dropped } = sanitizeLabels(tags);
    assert.equal(Object.keys(labels).length, maxDiscoveredLabels);
    assert.equal(labels.t000, "0");
    assert.equal(labels.t063, "63");
    assert.equal(labels.t064, undefined);
    assert.equal(dropped, 103 - maxDiscoveredLabels);
  });

  it("keeps a key such as __proto__ as an own label, not a prototype", () => {
    const tags = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>;
    const { labels } = sanitizeLabels(tags);
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.entries(labels), [
      ["__proto__", "x"],
      ["constructor", "y"],
    ]);
  });

  it("matches an account's filter on the tags as reported: every pair, own keys only", () => {
    assert.ok(matchesFilter({ env: "prod", team: "a" }, { env: "prod" }));
    assert.ok(matchesFilter({ env: "prod" }, {}));
    assert.ok(!matchesFilter({ env: "dev", team: "a" }, { env: "prod", team: "a" }));
    assert.ok(!matchesFilter({}, { toString: Object.prototype.toString.toString() }), "inherited keys are not tags");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessPolicy, maxRememberedCallers } from "../../src/auth/access-policy.js";
import { globMayMatch } from "../../src/auth/glob-may-match.js";

const credentials = {
  "eks-own": { provider: "aws" },
  "eks-ci": { provider: "aws" },
  "eks-deploy": { provider: "aws" },
  "gke-ci": { provider: "gcp" },
};
/** A cluster as choosing an identity sees it. */
const eks = (id: string, labels: Record<string, string> = {}) => ({ id, labels, provider: "aws", credentials: "eks-own" });

describe("AccessPolicy.chooseIdentity", () => {
  const policy = AccessPolicy.fromGrants(
    [
      { principals: ["key:ci"], clusters: ["prod-*"], rpcs: ["GenerateToken"], identities: ["gke-ci", "eks-ci"] },
      { principals: ["key:own"], clusters: ["prod-*"], rpcs: ["*"] },
      { principals: ["key:ops"], clusters: ["prod-*"], rpcs: ["GenerateToken"], identities: ["eks-deploy", "eks-ci"] },
      { principals: ["key:ops"], clusterLabels: { env: "prod" }, rpcs: ["GenerateToken"] },
      { principals: ["key:ops"], clusters: ["prod-*"], rpcs: ["GetKubeconfig"], identities: ["eks-ci"] },
    ],
    credentials,
  );

  it("chooses the one identity the caller's grants give, of the cluster's provider only", () => {
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("prod-a"), ""), { kind: "chosen", identity: "eks-ci" });
    assert.deepEqual(policy.chooseIdentity("key:own", "GetKubeconfig", eks("prod-a"), ""), { kind: "chosen", identity: "eks-own" });
    assert.deepEqual(policy.chooseIdentity("key:own", "GenerateToken", eks("prod-a"), "eks-own"), {
      kind: "chosen",
      identity: "eks-own",
    });
    assert.deepEqual(policy.chooseIdentity("key:ops", "GetKubeconfig", eks("prod-a", { env: "prod" }), ""), {
      kind: "chosen",
      identity: "eks-ci",
    });
  });

  it("lists the union of the selecting grants' identities, sorted, when several are given and none named", () => {
    assert.deepEqual(policy.chooseIdentity("key:ops", "GenerateToken", eks("prod-a"), ""), {
      kind: "required",
      choices: ["eks-ci", "eks-deploy"],
    });
    assert.deepEqual(policy.chooseIdentity("key:ops", "GenerateToken", eks("prod-a", { env: "prod" }), ""), {
      kind: "required",
      choices: ["eks-ci", "eks-deploy", "eks-own"],
    });
    assert.deepEqual(policy.chooseIdentity("key:ops", "GenerateToken", eks("prod-a", { env: "prod" }), "eks-own"), {
      kind: "chosen",
      identity: "eks-own",
    });
  });

  it("denies a named identity no selecting grant gives, another provider's, an unknown one, and a call no grant allows", () => {
    const denied = { kind: "denied" };
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("prod-a"), "gke-ci"), denied, "another provider's");
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("prod-a"), "eks-deploy"), denied, "another caller's");
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("prod-a"), "eks-own"), denied, "the cluster's own, not given");
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("prod-a"), "nobody"), denied);
    assert.deepEqual(policy.chooseIdentity("key:ops", "GenerateToken", eks("prod-a"), "eks-own"), denied, "only a label grant gives it");
    assert.deepEqual(policy.chooseIdentity("key:ci", "GetKubeconfig", eks("prod-a"), ""), denied, "no grant for the RPC");
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("dev-a"), ""), denied, "no grant for the cluster");
    assert.deepEqual(policy.chooseIdentity("key:ci", "GenerateToken", eks("prod-a"), "__proto__"), denied);
  });

  it("without grants (development), uses the cluster's own credentials or any entry of its provider named", () => {
    const open = AccessPolicy.allowAll(credentials);
    assert.deepEqual(open.chooseIdentity("anyone", "GenerateToken", eks("x"), ""), { kind: "chosen", identity: "eks-own" });
    assert.deepEqual(open.chooseIdentity("anyone", "GenerateToken", eks("x"), "eks-ci"), { kind: "chosen", identity: "eks-ci" });
    assert.deepEqual(open.chooseIdentity("anyone", "GenerateToken", eks("x"), "gke-ci"), { kind: "denied" });
    assert.deepEqual(open.chooseIdentity("anyone", "GenerateToken", eks("x"), "constructor"), { kind: "denied" });
  });
});

describe("AccessPolicy.mightAllow with a named identity (before any lookup)", () => {
  it("counts a grant only when it gives the name, or, without identities, when the name is a credentials entry", () => {
    const policy = AccessPolicy.fromGrants(
      [
        { principals: ["key:ci"], clusters: ["*.acme"], rpcs: ["GenerateToken"], identities: ["eks-ci"] },
        { principals: ["key:own"], clusters: ["*.acme"], rpcs: ["GenerateToken"] },
      ],
      credentials,
    );
    assert.ok(policy.mightAllow("key:ci", "GenerateToken", "x.acme", ""));
    assert.ok(policy.mightAllow("key:ci", "GenerateToken", "x.acme", "eks-ci"));
    assert.ok(!policy.mightAllow("key:ci", "GenerateToken", "x.acme", "eks-deploy"), "an entry the grant does not give");
    assert.ok(!policy.mightAllow("key:ci", "GenerateToken", "x.acme", "nobody"));
    assert.ok(policy.mightAllow("key:own", "GenerateToken", "x.acme", "eks-deploy"), "the cluster's own is known only after the lookup");
    assert.ok(!policy.mightAllow("key:own", "GenerateToken", "x.acme", "nobody"), "no credentials entry of that name");
    assert.ok(!policy.mightAllow("key:own", "GenerateToken", "x.acme", "__proto__"));
    assert.ok(!AccessPolicy.allowAll(credentials).mightAllow("anyone", "GenerateToken", "x", "nobody"));
  });

  it("answers alike for callers it no longer remembers: the oldest of more than maxRememberedCallers are found again", () => {
    const policy = AccessPolicy.fromGrants([{ principals: ["key:c-1*"], clusters: ["prod-*"], rpcs: ["GenerateToken"] }], credentials);
    for (let i = 0; i <= maxRememberedCallers; i++) policy.mightAllow(`key:c-${i}`, "GenerateToken", "prod-a");
    const remembered = (policy as unknown as { byCaller: Map<string, unknown> }).byCaller;
    assert.equal(remembered.size, maxRememberedCallers, "bounded");
    assert.ok(!remembered.has("GenerateToken\u0000key:c-0"), "the oldest forgotten");
    assert.ok(policy.allows("key:c-1", "GenerateToken", { id: "prod-a", labels: {} }));
    assert.ok(!policy.allows("key:c-0", "GenerateToken", { id: "prod-a", labels: {} }));
    assert.ok(!policy.allows("key:c-1", "GetKubeconfig", { id: "prod-a", labels: {} }), "remembered per RPC");
  });
});

describe("globMayMatch", () => {
  const run = "run" as const;
  it("says whether a glob can match some id of a template's shape, and never no when it can", () => {
    const shape = [run, { literal: ".prod-acct" }];
    assert.ok(globMayMatch("*.prod-acct", shape));
    assert.ok(globMayMatch("web*", shape));
    assert.ok(globMayMatch("**", shape));
    assert.ok(globMayMatch("?.prod-acct", shape));
    assert.ok(!globMayMatch("*.dev-acct", shape));
    assert.ok(!globMayMatch(".prod-acct", shape), "a placeholder renders at least one character");
    assert.ok(!globMayMatch("web/*.prod-acct", shape), "ids hold no '/'");
    assert.ok(!globMayMatch("WEB*", shape), "ids are lower case");
    assert.ok(globMayMatch("a*b*c", [run, { literal: "-" }, run]));
    assert.ok(!globMayMatch("x", [{ literal: "y" }]));
  });
});

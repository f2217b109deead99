import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessPolicy } from "../../src/auth/access-policy.js";
import { ApiKeyVerifier, generateApiKey, hashApiKey } from "../../src/auth/api-keys.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import { principalFromCertificate } from "../../src/auth/certificate-principal.js";
import { globMatcher } from "../../src/auth/glob.js";
import { RateLimiter } from "../../src/auth/rate-limiter.js";
import { ServiceError } from "../../src/errors/service-error.js";

describe("API keys", () => {
  it("are 256-bit, prefixed, and only their SHA-256 is kept", () => {
    const { key, sha256 } = generateApiKey();
    assert.match(key, /^cts_[A-Za-z0-9_-]{43}$/);
    assert.equal(sha256, hashApiKey(key));
    assert.match(sha256, /^[0-9a-f]{64}$/);
    assert.notEqual(generateApiKey().key, key);
  });

  it("verify against every configured hash", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    const verifier = new ApiKeyVerifier([
      { name: "a", sha256: a.sha256 },
      { name: "b", sha256: b.sha256 },
    ]);
    assert.equal(verifier.verify(a.key), "a");
    assert.equal(verifier.verify(b.key), "b");
    assert.equal(verifier.verify(`${a.key} `), undefined);
    assert.equal(verifier.verify(a.sha256), undefined, "the hash itself is not a key");
    assert.equal(verifier.verify(""), undefined);
  });
});

describe("certificate principals", () => {
  const name = (subjectaltname: string | undefined, subject: Record<string, string> = {}) => {
    const identity = principalFromCertificate({ subjectaltname: subjectaltname as never, subject: subject as never });
    return identity === undefined ? undefined : "problem" in identity ? `problem: ${identity.problem}` : identity.principal.name;
  };
  it("prefer the SPIFFE ID, then the DNS SAN, then the CN, each with its kind", () => {
    assert.equal(
      name("DNS:ci.example.com, URI:spiffe://corp.example/ns/ci/sa/deployer", { CN: "ci" }),
      "spiffe://corp.example/ns/ci/sa/deployer",
    );
    assert.equal(name("IP Address:10.0.0.1, DNS:ci.example.com", { CN: "ci" }), "cert:ci.example.com");
    assert.equal(name(undefined, { CN: "legacy" }), "cert:legacy");
    assert.equal(
      name("URI:https://not-spiffe.example/x, DNS:web.example.com"),
      "cert:web.example.com",
      "a URI SAN that is no SPIFFE ID names nobody",
    );
    assert.equal(name("IP Address:10.0.0.1"), undefined);
  });
  it("parse SPIFFE IDs by the spec and refuse what it forbids", () => {
    for (const bad of [
      'URI:"spiffe://corp.example/a,b"',
      "URI:spiffe://corp.example/ns/ci/../../ns/admin/sa/x",
      "URI:spiffe://corp.example/ns/./ci",
      "URI:spiffe://corp.example/ns//ci",
      "URI:spiffe://corp.example/ns/ci/",
      "URI:spiffe://corp.example/ns/ci%2F..%2Fadmin",
      "URI:spiffe://corp.example/ns/ci?x=1",
      "URI:spiffe://corp.example/ns/ci#frag",
      "URI:spiffe://corp.example:443/ns/ci",
      "URI:spiffe://user@corp.example/ns/ci",
      "URI:spiffe://Corp.Example/ns/ci",
    ]) {
      assert.match(name(bad, { CN: "fallback" }) ?? "", /^problem: the certificate's SPIFFE ID /, bad);
    }
    assert.equal(name("URI:spiffe://corp.example"), "spiffe://corp.example");
  });
});

describe("globs", () => {
  it("match * and ? within one segment, ** across segments, and nothing else specially", () => {
    assert.ok(globMatcher("prod-*")("prod-eks"));
    assert.ok(globMatcher("prod-*")("prod-"));
    assert.ok(!globMatcher("prod-*")("staging-prod-eks"));
    assert.ok(globMatcher("demo-?ks")("demo-eks"));
    assert.ok(!globMatcher("demo.eks")("demoXeks"), "a dot is literal");
    assert.ok(globMatcher("spiffe://corp/ns/*")("spiffe://corp/ns/ci"));
    assert.ok(!globMatcher("spiffe://corp/ns/*")("spiffe://corp/ns/ci/sa/x"), "* stays within a segment");
    assert.ok(!globMatcher("spiffe://corp/ns/ci?x")("spiffe://corp/ns/ci/x"), "? is not a /");
    assert.ok(globMatcher("spiffe://corp/ns/**")("spiffe://corp/ns/ci/sa/x"), "** spans segments");
    assert.ok(!globMatcher("a(b)")("ab"));
  });
});

describe("AccessPolicy", () => {
  /** A cluster as grants see it: its id and labels. */
  const at = (id: string, labels: Record<string, string> = {}) => ({ id, labels });
  const policy = AccessPolicy.fromGrants([
    { principals: ["cert:ci-*"], clusters: ["dev-*"], rpcs: ["GenerateToken"] },
    { principals: ["key:ops"], clusters: ["*"], rpcs: ["*"] },
  ]);
  it("denies by default and allows only what a grant names", () => {
    assert.ok(policy.allows("cert:ci-runner", "GenerateToken", at("dev-eks")));
    assert.ok(!policy.allows("cert:ci-runner", "GetKubeconfig", at("dev-eks")));
    assert.ok(!policy.allows("cert:ci-runner", "GenerateToken", at("prod-eks")));
    assert.ok(!policy.allows("cert:someone", "GenerateToken", at("dev-eks")));
    assert.ok(policy.allows("key:ops", "GetKubeconfig", at("anything")));
    assert.ok(!policy.allows("cert:ops", "GetKubeconfig", at("anything")), "a certificate named like a key is not the key");
    assert.ok(!policy.allows("key:ci-runner", "GenerateToken", at("dev-eks")), "a key named like a certificate is not the certificate");
    assert.ok(!policy.allowsRpc("cert:ci-runner", "ListClusters"));
    assert.ok(!AccessPolicy.fromGrants([]).allows("key:ops", "ListClusters", at("x")));
    assert.ok(AccessPolicy.allowAll().allows("anyone", "GetKubeconfig", at("x")));
  });

  const byLabels = AccessPolicy.fromGrants([
    { principals: ["key:deployer"], clusterLabels: { env: "prod", team: "pay" }, rpcs: ["GenerateToken"] },
    { principals: ["key:both"], clusters: ["*.acme"], clusterLabels: { env: "prod" }, rpcs: ["*"] },
    { principals: ["key:ids"], clusters: ["*.acme"], rpcs: ["GenerateToken"] },
  ]);

  it("selects by labels, every pair, and by ids and labels together when a grant names both", () => {
    assert.ok(byLabels.allows("key:deployer", "GenerateToken", at("any", { env: "prod", team: "pay", extra: "x" })));
    assert.ok(!byLabels.allows("key:deployer", "GenerateToken", at("any", { env: "prod" })), "every pair must match");
    assert.ok(!byLabels.allows("key:deployer", "GenerateToken", at("any", { env: "prod", team: "ops" })));
    assert.ok(!byLabels.allows("key:deployer", "GetKubeconfig", at("any", { env: "prod", team: "pay" })));
    assert.ok(byLabels.allows("key:both", "GetKubeconfig", at("web.acme", { env: "prod" })));
    assert.ok(!byLabels.allows("key:both", "GetKubeconfig", at("web.other", { env: "prod" })), "the id must match too");
    assert.ok(!byLabels.allows("key:both", "GetKubeconfig", at("web.acme", { env: "dev" })), "the labels must match too");
    assert.ok(!byLabels.allows("key:deployer", "GenerateToken", at("any", JSON.parse('{"__proto__": {"env": "prod", "team": "pay"}}'))));
  });

  it("says before any lookup whether a grant could allow an id, and only id grants may learn that an id does not exist", () => {
    assert.ok(byLabels.mightAllow("key:deployer", "GenerateToken", "whatever.us-west-2.acme"), "a label grant could select any id");
    assert.ok(!byLabels.mightAllow("key:deployer", "GetKubeconfig", "whatever"), "not for another RPC");
    assert.ok(!byLabels.mightAllow("key:both", "GenerateToken", "web.other"), "not outside its ids");
    assert.ok(!byLabels.mightAllow("key:nobody", "GenerateToken", "web.acme"));
    assert.ok(!byLabels.revealsAbsence("key:deployer", "GenerateToken", "whatever"));
    assert.ok(!byLabels.revealsAbsence("key:both", "GenerateToken", "web.acme"));
    assert.ok(byLabels.revealsAbsence("key:ids", "GenerateToken", "web.acme"));
    assert.ok(!byLabels.revealsAbsence("key:ids", "GenerateToken", "web.other"));
  });
});

describe("RateLimiter", () => {
  it("allows a burst, then the sustained rate, per key", () => {
    let now = 0;
    const limiter = new RateLimiter({ requestsPerSecond: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take("a"), { ok: true });
    assert.deepEqual(limiter.take("a"), { ok: false, retryAfterMs: 500 });
    assert.deepEqual(limiter.take("b"), { ok: true }, "keys are independent");
    now += 500;
    assert.deepEqual(limiter.take("a"), { ok: true });
    assert.equal(limiter.take("a").ok, false);
    now += 10_000;
    for (let i = 0; i < 3; i++) assert.equal(limiter.take("a").ok, true, "refills up to the burst only");
    assert.equal(limiter.take("a").ok, false);
  });
});

describe("Authenticator", () => {
  const key = generateApiKey();
  const auth = Authenticator.withKeys([{ name: "ci", sha256: key.sha256 }]);
  const reason = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      assert.ok(err instanceof ServiceError && err.code === "Unauthenticated");
      assert.ok(!err.message.includes(key.key));
      return err.reason;
    }
    return assert.fail("expected UNAUTHENTICATED");
  };
  it("takes an API key over a certificate, and requires one of them", () => {
    const cert = { subjectaltname: "URI:spiffe://corp/ci", subject: {} as never };
    assert.deepEqual(auth.authenticate({ authorization: `Bearer ${key.key}`, peerCertificate: cert }), { name: "key:ci", kind: "key" });
    assert.deepEqual(auth.authenticate({ peerCertificate: cert }), { name: "spiffe://corp/ci", kind: "spiffe" });
    assert.equal(
      reason(() => auth.authenticate({})),
      "CREDENTIALS_MISSING",
    );
    assert.equal(
      reason(() => auth.authenticate({ authorization: `Bearer ${key.key}x`, peerCertificate: cert })),
      "INVALID_API_KEY",
    );
    assert.equal(
      reason(() => auth.authenticate({ authorization: key.key })),
      "MALFORMED_AUTHORIZATION",
    );
    assert.equal(
      reason(() => auth.authenticate({ peerCertificate: { subjectaltname: "", subject: {} as never } })),
      "CERTIFICATE_WITHOUT_IDENTITY",
    );
    assert.deepEqual(Authenticator.none().authenticate({ authorization: "Bearer whatever" }), { name: "anonymous", kind: "anonymous" });
    assert.equal(
      reason(() => auth.authenticate({ peerCertificate: { subjectaltname: "URI:spiffe://corp/ci/../admin", subject: {} as never } })),
      "CERTIFICATE_IDENTITY_INVALID",
    );
  });
});

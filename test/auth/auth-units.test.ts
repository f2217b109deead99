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
    const verifier = new ApiKeyVerifier([{ name: "a", sha256: a.sha256 }, { name: "b", sha256: b.sha256 }]);
    assert.equal(verifier.verify(a.key), "a");
    assert.equal(verifier.verify(b.key), "b");
    assert.equal(verifier.verify(`${a.key} `), undefined);
    assert.equal(verifier.verify(a.sha256), undefined, "the hash itself is not a key");
    assert.equal(verifier.verify(""), undefined);
  });
});

describe("certificate principals", () => {
  it("prefer the URI SAN, then the DNS SAN, then the CN", () => {
    assert.equal(principalFromCertificate({ subjectaltname: "DNS:ci.example.com, URI:spiffe://corp.example/ns/ci/sa/deployer", subject: { CN: "ci" } as never }), "spiffe://corp.example/ns/ci/sa/deployer");
    assert.equal(principalFromCertificate({ subjectaltname: "IP Address:10.0.0.1, DNS:ci.example.com", subject: { CN: "ci" } as never }), "ci.example.com");
    assert.equal(principalFromCertificate({ subjectaltname: undefined as never, subject: { CN: "legacy" } as never }), "legacy");
    assert.equal(principalFromCertificate({ subjectaltname: 'URI:"spiffe://corp.example/a,b"', subject: {} as never }), "spiffe://corp.example/a,b");
    assert.equal(principalFromCertificate({ subjectaltname: "IP Address:10.0.0.1", subject: {} as never }), undefined);
  });
});

describe("globs", () => {
  it("match * and ? and nothing else specially", () => {
    assert.ok(globMatcher("prod-*")("prod-eks"));
    assert.ok(globMatcher("prod-*")("prod-"));
    assert.ok(!globMatcher("prod-*")("staging-prod-eks"));
    assert.ok(globMatcher("demo-?ks")("demo-eks"));
    assert.ok(!globMatcher("demo.eks")("demoXeks"), "a dot is literal");
    assert.ok(globMatcher("spiffe://corp/ns/*")("spiffe://corp/ns/ci/sa/x"));
    assert.ok(!globMatcher("a(b)")("ab"));
  });
});

describe("AccessPolicy", () => {
  const policy = AccessPolicy.fromGrants([
    { principals: ["ci-*"], clusters: ["dev-*"], rpcs: ["GenerateToken"] },
    { principals: ["ops"], clusters: ["*"], rpcs: ["*"] },
  ]);
  it("denies by default and allows only what a grant names", () => {
    assert.ok(policy.allows("ci-runner", "GenerateToken", "dev-eks"));
    assert.ok(!policy.allows("ci-runner", "GetKubeconfig", "dev-eks"));
    assert.ok(!policy.allows("ci-runner", "GenerateToken", "prod-eks"));
    assert.ok(!policy.allows("someone", "GenerateToken", "dev-eks"));
    assert.ok(policy.allows("ops", "GetKubeconfig", "anything"));
    assert.ok(!policy.allowsRpc("ci-runner", "ListClusters"));
    assert.ok(!AccessPolicy.fromGrants([]).allows("ops", "ListClusters", "x"));
    assert.ok(AccessPolicy.allowAll().allows("anyone", "GetKubeconfig", "x"));
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
    assert.deepEqual(auth.authenticate({ authorization: `Bearer ${key.key}`, peerCertificate: cert }), { name: "ci", method: "api-key" });
    assert.deepEqual(auth.authenticate({ peerCertificate: cert }), { name: "spiffe://corp/ci", method: "mtls" });
    assert.equal(reason(() => auth.authenticate({})), "CREDENTIALS_MISSING");
    assert.equal(reason(() => auth.authenticate({ authorization: `Bearer ${key.key}x`, peerCertificate: cert })), "INVALID_API_KEY");
    assert.equal(reason(() => auth.authenticate({ authorization: key.key })), "MALFORMED_AUTHORIZATION");
    assert.equal(reason(() => auth.authenticate({ peerCertificate: { subjectaltname: "", subject: {} as never } })), "CERTIFICATE_WITHOUT_IDENTITY");
    assert.deepEqual(Authenticator.none().authenticate({ authorization: "Bearer whatever" }), { name: "anonymous", method: "none" });
  });
});

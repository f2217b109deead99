import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { parseConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";
import { problemsOf, type Raw, withChange } from "../support/config-variants.js";
import { rawTestConfig } from "../support/test-config.js";

describe("config validation", () => {
  it("accepts the documented keys and fills defaults", () => {
    const config = parseConfig(providers, stringify(rawTestConfig()), "/etc/cts/config.yaml");
    assert.equal(config.limits.maxMessageBytes, 65536);
    assert.equal(config.clusters.length, 2);
  });

  const cases: [string, (raw: Raw) => void, RegExp][] = [
    ["a missing region", (r) => delete r.clusters[0]!.region, /^clusters\[0\]\.region: is required$/],
    [
      "an unknown provider",
      (r) => (r.clusters[1]!.provider = "oracle"),
      /^clusters\[1\]\.provider: unknown provider "oracle"; known providers: aws, gcp, ncp, azure, alibaba$/,
    ],
    [
      "an unknown credential provider",
      (r) => (r.credentials["aws-test"]!.provider = "oracle"),
      /^credentials\.aws-test\.provider: unknown provider "oracle"; known providers: aws, gcp, ncp, azure, alibaba$/,
    ],
    [
      "an inline secret",
      (r) => (r.credentials["aws-test"]!.secretAccessKey = "wJalrXUtnFEMI/K7MDENG"),
      /^credentials\.aws-test\.secretAccessKey: must be a secret reference, \{ env: NAME \} or \{ file: PATH \}; secrets are never written inline$/,
    ],
    [
      "a secret reference with both env and file",
      (r) => (r.credentials["aws-test"]!.accessKeyId = { env: "A", file: "b" }),
      /^credentials\.aws-test\.accessKeyId: must be a secret reference/,
    ],
    [
      "half a key pair",
      (r) => delete r.credentials["aws-test"]!.secretAccessKey,
      /^credentials\.aws-test\.secretAccessKey: is required unless source is "default"$/,
    ],
    [
      "source default mixed with keys",
      (r) => (r.credentials["aws-test"]!.source = "default"),
      /^credentials\.aws-test\.source: cannot be combined/,
    ],
    [
      "externalId without roleArn",
      (r) => (r.credentials["aws-test"]!.externalId = "abc"),
      /^credentials\.aws-test\.roleArn: is required when externalId/,
    ],
    [
      "a malformed role ARN",
      (r) => (r.credentials["aws-test"]!.roleArn = "role/x"),
      /^credentials\.aws-test\.roleArn: must be an IAM role ARN/,
    ],
    ["a duplicate cluster id", (r) => (r.clusters[1]!.id = "demo-eks"), /^clusters\[1\]\.id: duplicates clusters\[0\]\.id "demo-eks"$/],
    ["an invalid cluster id", (r) => (r.clusters[0]!.id = "Demo_EKS"), /^clusters\[0\]\.id: must be lower-case letters/],
    [
      "a credential of another provider",
      (r) => {
        r.credentials.gke = { provider: "gcp", source: "default" };
        r.clusters[0]!.credentials = "gke";
      },
      /^clusters\[0\]\.credentials: names a gcp credential, but the cluster's provider is aws$/,
    ],
    [
      "a dangling credential name",
      (r) => (r.clusters[0]!.credentials = "nope"),
      /^clusters\[0\]\.credentials: names "nope", which is not an entry of credentials$/,
    ],
    [
      "a plain-http endpoint",
      (r) => (r.clusters[0]!.endpoint = "http://example.com"),
      /^clusters\[0\]\.endpoint: must be an https:\/\/ URL$/,
    ],
    [
      "CA data that is not a PEM",
      (r) => (r.clusters[0]!.certificateAuthorityData = Buffer.from("hello").toString("base64")),
      /^clusters\[0\]\.certificateAuthorityData: must be base64 of a PEM certificate$/,
    ],
    [
      "an unknown key",
      (r) => (r.clusters[0]!.endpiont = "https://x"),
      /^clusters\[0\]: unknown key "endpiont" \(did you mean "endpoint"\?\)$/,
    ],
    ["a bad listen address", (r) => (r.listen = { grpc: "localhost", http: "127.0.0.1:8080" }), /^listen\.grpc: must be "host:port"/],
    ["no clusters and no accounts", (r) => (r.clusters = []), /^clusters: must register at least one cluster, or accounts must name one$/],
  ];
  for (const [what, change, expected] of cases) {
    it(`names the key of ${what}`, () => {
      const problems = problemsOf(withChange(change));
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${JSON.stringify(problems)} should match ${expected}`,
      );
    });
  }

  it("validates GKE and NKS entries with their own keys", () => {
    const raw = withChange((r) => {
      r.credentials.gke = { provider: "gcp", serviceAccountKey: { file: "sa.json" } };
      r.credentials.nks = { provider: "ncp", accessKey: { env: "NCP_ACCESS_KEY" }, secretKey: { env: "NCP_SECRET_KEY" } };
      r.clusters.push({ id: "g", provider: "gcp", project: "my-project", region: "us-central1-a", name: "prod", credentials: "gke" });
      r.clusters.push({ id: "n", provider: "ncp", region: "KR", uuid: "D11328F1-ECA9-4F1B-BA22-921F61D9C5FF", credentials: "nks" });
    });
    assert.equal(parseConfig(providers, stringify(raw), "/etc/cts/config.yaml").clusters.length, 4);
    const problems = problemsOf(
      withChange((r) => {
        r.credentials.gke = { provider: "gcp", impersonateServiceAccount: "not-an-email" };
        r.credentials.nks = { provider: "ncp", accessKey: "AKIDINLINE", secretKey: { env: "X" } };
        r.clusters.push({ id: "g", provider: "gcp", region: "us-central1", name: "prod", credentials: "gke" });
        r.clusters.push({ id: "n", provider: "ncp", region: "kr", uuid: "not-a-uuid", credentials: "gke" });
      }),
    );
    for (const expected of [
      /^credentials\.gke\.impersonateServiceAccount: must be a service account email$/,
      /^credentials\.gke\.serviceAccountKey: is required unless source is "default"$/,
      /^credentials\.nks\.accessKey: must be a secret reference/,
      /^clusters\[2\]\.project: is required$/,
      /^clusters\[3\]\.region: must be an NCP region code/,
      /^clusters\[3\]\.uuid: must be the NKS cluster UUID$/,
    ]) {
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${JSON.stringify(problems)} should match ${expected}`,
      );
    }
  });

  it("reports every problem in one run, field and cross-field alike, and a wrong type as a type error without its value", () => {
    const problems = problemsOf(
      withChange((raw) => {
        (raw.listen as Record<string, unknown>).http = 8080;
        raw.limits = { maxCallSeconds: "thirty-secret-seconds" };
        raw.clusters[0]!.region = 5;
        raw.clusters[1]!.id = "demo-eks";
        raw.clusters[1]!.credentials = "missing";
        raw.credentials["aws-test"]!.secretAccessKey = "inline-secret-value";
      }),
    );
    assert.deepEqual(
      [...problems].sort(),
      [
        'clusters[1].credentials: names "missing", which is not an entry of credentials',
        'clusters[1].id: duplicates clusters[0].id "demo-eks"',
        "clusters[0].region: must be a string, not a number",
        "credentials.aws-test.secretAccessKey: must be a secret reference, { env: NAME } or { file: PATH }; secrets are never written inline",
        "limits.maxCallSeconds: must be a number, not a string",
        "listen.http: must be a string, not a number",
      ].sort(),
    );
    assert.ok(
      !problems.join("\n").includes("inline-secret-value") && !problems.join("\n").includes("thirty-secret"),
      "values are never echoed",
    );
  });

  it("reports YAML syntax errors and duplicate keys", () => {
    assert.match(problemsOf("listen: [unclosed\n")[0]!, /^YAML: /);
    assert.match(problemsOf("listen: {}\nlisten: {}\n")[0]!, /^YAML: .*duplicated mapping key/);
  });

  it("never echoes a secret-looking inline value", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz";
    const problems = problemsOf(withChange((r) => (r.credentials["aws-test"]!.secretAccessKey = secret)));
    assert.doesNotMatch(problems.join("\n"), /wJalrXUtnFEMI/);
  });
});

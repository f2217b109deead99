import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { ConfigError, parseConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";
import { rawTestConfig, testCaData } from "../support/test-config.js";

process.env.CTS_GRANT_IDS_GCP_KEY = "{}";

/** A secure config with an EKS cluster, a GKE cluster, an AWS account and the given grants. */
function withGrants(grants: unknown[]): Record<string, unknown> {
  const raw = rawTestConfig() as Record<string, unknown> & { credentials: Record<string, unknown>; clusters: unknown[] };
  return {
    ...raw,
    security: {
      tls: { certFile: "/etc/cts/tls.crt", keyFile: "/etc/cts/tls.key" },
      apiKeys: [{ name: "ci", sha256: "a".repeat(64) }],
      grants,
    },
    credentials: {
      ...raw.credentials,
      "aws-readonly": raw.credentials["aws-test"],
      "gke-ci": { provider: "gcp", serviceAccountKey: { env: "CTS_GRANT_IDS_GCP_KEY" } },
    },
    clusters: [
      ...raw.clusters,
      {
        id: "web-gke",
        provider: "gcp",
        project: "proj-web",
        region: "europe-west4",
        name: "web",
        labels: { team: "web" },
        credentials: "gke-ci",
        endpoint: "https://35.1.2.3",
        certificateAuthorityData: testCaData,
      },
    ],
    accounts: [{ id: "prod-acct", provider: "aws", credentials: "aws-test", regions: ["us-east-1"] }],
  };
}

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(providers, stringify(raw), "/etc/cts/config.yaml");
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
}

const grant = (more: Record<string, unknown>) => ({ principals: ["key:ci"], rpcs: ["GenerateToken"], ...more });

describe("grants' identities", () => {
  it("accepts identities of the providers a grant can select: configured clusters, by id or label, and discovered ids", () => {
    assert.deepEqual(
      problemsOf(
        withGrants([
          grant({ clusters: ["demo-*"], identities: ["aws-readonly", "aws-test"] }),
          grant({ clusters: ["*"], identities: ["aws-readonly", "gke-ci"] }),
          grant({ clusterLabels: { team: "web" }, identities: ["gke-ci"] }),
          grant({ clusters: ["*.prod-acct"], identities: ["aws-readonly"] }),
          grant({ clusters: ["*"], rpcs: ["*"], identities: ["aws-test"] }),
        ]),
      ),
      [],
    );
  });

  it("names every grant whose identity is missing, or of another provider than every cluster it can select", () => {
    const problems = problemsOf(
      withGrants([
        grant({ clusters: ["demo-*"], identities: ["aws-readonly", "aws-nobody"] }),
        grant({ clusters: ["demo-*"], identities: ["gke-ci"] }),
        grant({ clusters: ["*-gke"], identities: ["aws-readonly"] }),
        grant({ clusters: ["*.dev-acct"], identities: ["aws-readonly"] }),
      ]),
    );
    assert.deepEqual(problems, [
      'security.grants[0].identities[1]: names "aws-nobody", which is not an entry of credentials',
      'security.grants[1].identities[0]: names "gke-ci", a credential of provider gcp, but the grant selects only aws clusters; a cluster\'s identities are credentials of its own provider',
      'security.grants[2].identities[0]: names "aws-readonly", a credential of provider aws, but the grant selects only gcp clusters; a cluster\'s identities are credentials of its own provider',
      'security.grants[3].identities[0]: names "aws-readonly", a credential of provider aws, but the grant selects no cluster; a cluster\'s identities are credentials of its own provider',
    ]);
  });

  it("refuses an empty list, a repeated name, a malformed name, and identities on a grant that cannot mint", () => {
    const problems = problemsOf(
      withGrants([
        grant({ clusters: ["*"], identities: [] }),
        grant({ clusters: ["*"], identities: ["aws-test", "aws-test"] }),
        grant({ clusters: ["*"], identities: ["aws test\n"] }),
        grant({ clusters: ["*"], rpcs: ["ListClusters"], identities: ["aws-test"] }),
      ]),
    );
    assert.deepEqual(
      problems.map((p) => p.replace(/:.*/, "")),
      [
        "security.grants[0].identities",
        "security.grants[1].identities",
        "security.grants[2].identities[0]",
        "security.grants[3].identities",
      ],
      JSON.stringify(problems),
    );
    assert.ok(!problems.join("\n").includes("aws test\n"), "a malformed value is never echoed");
  });
});

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { parseConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";

/** Base64 PEM of the test CA certificate, as a kubeconfig's certificate-authority-data. */
export const testCaData = readFileSync(new URL("../../../test/support/fixtures/test-ca.pem", import.meta.url)).toString("base64");

/** Long-term AWS test keys; tests set them into the environment under these names. */
export const testAwsKeys = { accessKeyId: "AKIATESTKEY000000001", secretAccessKey: "test/Secret+Access/Key0123456789abcdefghij" };
process.env.CTS_TEST_AWS_ACCESS_KEY_ID = testAwsKeys.accessKeyId;
process.env.CTS_TEST_AWS_SECRET_ACCESS_KEY = testAwsKeys.secretAccessKey;
/** The same keys as a served process's environment, where the test configs' `{ env: CTS_TEST_AWS_* }` references find them. */
export const testAwsEnv = {
  CTS_TEST_AWS_ACCESS_KEY_ID: testAwsKeys.accessKeyId,
  CTS_TEST_AWS_SECRET_ACCESS_KEY: testAwsKeys.secretAccessKey,
};

/** A fresh audit log file for one test service. */
export function testAuditFile(): string {
  return join(mkdtempSync(join(tmpdir(), "cts-audit-")), "audit.log");
}

/** A raw config (as it would be written in YAML) with one EKS cluster, listening on free loopback ports, in development mode. */
export function rawTestConfig(): Record<string, unknown> {
  return {
    listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0" },
    security: { insecurePlaintext: true },
    audit: { file: testAuditFile() },
    logging: { level: "info" },
    credentials: {
      "aws-test": {
        provider: "aws",
        accessKeyId: { env: "CTS_TEST_AWS_ACCESS_KEY_ID" },
        secretAccessKey: { env: "CTS_TEST_AWS_SECRET_ACCESS_KEY" },
      },
    },
    clusters: [
      {
        id: "demo-eks",
        provider: "aws",
        region: "us-west-2",
        name: "demo",
        displayName: "Demo",
        labels: { env: "test" },
        credentials: "aws-test",
        endpoint: "https://ABCDEF.gr7.us-west-2.eks.amazonaws.com",
        certificateAuthorityData: testCaData,
      },
      // Discovery of this one goes to a closed port: UNAVAILABLE.
      {
        id: "no-endpoint",
        provider: "aws",
        region: "eu-central-1",
        name: "bare",
        credentials: "aws-test",
        apiEndpoint: "http://127.0.0.1:9",
      },
    ],
  };
}

/** Validates a raw config exactly as the server does at start-up. */
export function testConfig(raw: Record<string, unknown> = rawTestConfig()): ServiceConfig {
  return parseConfig(providers, stringify(raw), "/test/config.yaml");
}

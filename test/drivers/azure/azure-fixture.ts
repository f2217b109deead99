import { execFile } from "node:child_process";
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Clock, systemClock } from "../../../src/common/clock.js";
import type { ClusterOf } from "../../../src/core/registered-cluster.js";
import { type FakeAzure, startFakeAzure } from "../../fakes/fake-azure.js";
import { createTestPki } from "../../support/test-pki.js";
import { testCaData } from "../../support/test-config.js";

export const tenantId = "11111111-2222-4333-8444-555555555555";
export const apps = {
  secret: "aaaaaaaa-0000-4000-8000-000000000001",
  certificate: "aaaaaaaa-0000-4000-8000-000000000002",
  workload: "aaaaaaaa-0000-4000-8000-000000000003",
  managed: "aaaaaaaa-0000-4000-8000-000000000004",
};
export const clientSecret = "azure-test-client-secret-~0123456789abcdef";
export const subscriptionId = "99999999-8888-4777-8666-555555555555";

/** Everything an Azure test needs: the fake cloud, its TLS CA, and credential files. */
export interface AzureFixture {
  azure: FakeAzure;
  dir: string;
  caFile: string;
  /** A PEM file with an RSA certificate registered for `apps.certificate`, and its key. */
  certificateFile: string;
  /** A PEM file with a certificate and key Entra ID does not know. */
  foreignCertificateFile: string;
  /** A PEM file with an expired certificate and its key. */
  expiredCertificateFile: string;
  /** The projected service-account token file of `apps.workload`. */
  federatedTokenFile: string;
  /** Signs a federated token (a Kubernetes service-account token) with the workload's issuer key. */
  federatedToken(claims?: Record<string, unknown>): string;
  cluster(id: string, name: string, credentials: string): ClusterOf<"azure">;
}

async function selfSigned(dir: string, name: string): Promise<string> {
  const [key, cert] = [join(dir, `${name}.key`), join(dir, `${name}.crt`)];
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-subj",
    `/CN=${name}`,
    "-days",
    "2",
  ]);
  const file = join(dir, `${name}.pem`);
  await writeFile(file, `${await readFile(cert, "utf8")}${await readFile(key, "utf8")}`, { mode: 0o600 });
  return file;
}

/** Starts the fake Azure on `clock` (the wall clock by default) with `clusters` besides rg-alpha/alpha, and writes its files. */
export async function createAzureFixture(
  clock: Clock = systemClock,
  clusters: Record<string, { server: string; caData: string }> = {},
): Promise<AzureFixture> {
  const dir = await mkdtemp(join(tmpdir(), "cts-azure-"));
  const pki = await createTestPki();
  const serving = await pki.issue("entra", { cn: "login.example", sans: ["IP:127.0.0.1"], usage: "server" });
  const certificateFile = await selfSigned(dir, "aks-client");
  const foreignCertificateFile = await selfSigned(dir, "stranger");
  const expired = await pki.issueExpired("expired", { cn: "expired" });
  const expiredCertificateFile = join(dir, "expired.pem");
  await writeFile(expiredCertificateFile, `${expired.cert.toString()}${expired.key.toString()}`, { mode: 0o600 });
  const issuer = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const federated = {
    issuer: "https://oidc.aks.example/tenant/",
    subject: "system:serviceaccount:cluster-token:cluster-token-service",
    publicKey: issuer.publicKey,
  };
  const federatedToken = (claims: Record<string, unknown> = {}) =>
    signJwt(issuer.privateKey, {
      iss: federated.issuer,
      sub: federated.subject,
      aud: ["api://AzureADTokenExchange"],
      exp: Math.floor(clock.now() / 1000) + 3600,
      iat: Math.floor(clock.now() / 1000),
      ...claims,
    });
  const federatedTokenFile = join(dir, "azure-identity-token");
  await writeFile(federatedTokenFile, federatedToken());
  const azure = await startFakeAzure({
    tenantId,
    tls: { cert: serving.cert, key: serving.key },
    apps: {
      [apps.secret]: { secret: clientSecret },
      [apps.certificate]: { certificate: await readFile(certificateFile, "utf8") },
      [apps.workload]: { federated },
    },
    managedIdentities: [apps.managed, "system"],
    clock,
    clusters: {
      [`${subscriptionId}/rg-alpha/alpha`]: { server: "https://alpha-dns.hcp.westeurope.azmk8s.io:443", caData: testCaData },
      ...clusters,
    },
  });
  return {
    azure,
    dir,
    caFile: pki.ca.certFile,
    certificateFile,
    foreignCertificateFile,
    expiredCertificateFile,
    federatedTokenFile,
    federatedToken,
    cluster: (id, name, credentials) => ({
      id,
      provider: "azure",
      region: "westeurope",
      subscriptionId,
      resourceGroup: "rg-alpha",
      name,
      displayName: "",
      labels: {},
      credentials,
      apiEndpoint: azure.arm.url,
    }),
  };
}

function signJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const data = `${encode({ alg: "RS256", typ: "JWT", kid: "k1" })}.${encode(claims)}`;
  return `${data}.${sign("sha256", Buffer.from(data), key).toString("base64url")}`;
}

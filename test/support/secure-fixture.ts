import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { generateApiKey } from "../../src/auth/api-keys.js";
import { createTestPki, type IssuedCert, type TestPki } from "./test-pki.js";
import { testAuditFile, testCaData } from "./test-config.js";

/** Everything a secure-mode test needs: a PKI, client identities and API keys. */
export interface SecureFixture {
  pki: TestPki;
  server: IssuedCert;
  /** URI SAN spiffe://corp.example/ns/ci/sa/deployer: granted everything on demo-*. */
  ciCert: IssuedCert;
  /** DNS SAN ops.example.com: granted GenerateToken and ListClusters on prod-*. */
  opsCert: IssuedCert;
  /** CN only, "legacy-client": granted nothing. */
  cnOnlyCert: IssuedCert;
  /** CN and DNS SAN "deployer", the name of an API key: granted nothing, since `key:deployer` is not `cert:deployer`. */
  keyNameCert: IssuedCert;
  /** SPIFFE ID `spiffe://corp.example/ns/ci/../../ns/admin/sa/x`, which the SPIFFE rules forbid. */
  dotSegmentCert: IssuedCert;
  /** SPIFFE ID `spiffe://corp.example/ns/ci/x/y`: two segments below the granted `…/ns/ci/*`. */
  deepCert: IssuedCert;
  /** The CI identity, expired yesterday. */
  expiredCert: IssuedCert;
  /** A client certificate from a CA the service does not trust. */
  foreignCert: IssuedCert;
  /** "deployer": GenerateToken on demo-eks. "reader": ListClusters on everything, GetKubeconfig on demo-*. */
  keys: { deployer: { key: string; sha256: string }; reader: { key: string; sha256: string } };
}

export async function createSecureFixture(): Promise<SecureFixture> {
  const pki = await createTestPki();
  const foreign = await createTestPki("some other CA");
  return {
    pki,
    server: await pki.issue("server", { cn: "cluster-token-service", sans: ["IP:127.0.0.1", "DNS:localhost"], usage: "server" }),
    ciCert: await pki.issue("ci", { cn: "ci", sans: ["URI:spiffe://corp.example/ns/ci/sa/deployer"], usage: "client" }),
    opsCert: await pki.issue("ops", { cn: "ops", sans: ["DNS:ops.example.com"], usage: "client" }),
    cnOnlyCert: await pki.issue("legacy", { cn: "legacy-client", usage: "client" }),
    keyNameCert: await pki.issue("keyname", { cn: "deployer", sans: ["DNS:deployer"], usage: "client" }),
    dotSegmentCert: await pki.issue("dotsegment", {
      cn: "x",
      sans: ["URI:spiffe://corp.example/ns/ci/../../ns/admin/sa/x"],
      usage: "client",
    }),
    deepCert: await pki.issue("deep", { cn: "y", sans: ["URI:spiffe://corp.example/ns/ci/x/y"], usage: "client" }),
    expiredCert: await pki.issueExpired("expired", { cn: "ci", sans: ["URI:spiffe://corp.example/ns/ci/sa/deployer"] }),
    foreignCert: await foreign.issue("foreign", { cn: "ci", sans: ["URI:spiffe://corp.example/ns/ci/sa/deployer"], usage: "client" }),
    keys: { deployer: generateApiKey(), reader: generateApiKey() },
  };
}

/** A secure config: TLS on both listeners, API keys, mTLS when `mtls`, and the grants described on {@link SecureFixture}. */
export function secureRawConfig(
  f: SecureFixture,
  options: {
    mtls: boolean;
    rateLimit?: { requestsPerSecond: number; burst: number };
    reflection?: boolean;
    auditFile?: string;
    auditCommitTimeoutSeconds?: number;
    limits?: Record<string, number>;
  },
): Record<string, unknown> {
  const cluster = (id: string, name: string) => ({
    id,
    provider: "aws",
    region: "us-west-2",
    name,
    credentials: "aws-test",
    endpoint: `https://${name}.example.com`,
    certificateAuthorityData: testCaData,
  });
  return {
    listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0" },
    ...(options.limits ? { limits: options.limits } : {}),
    audit: {
      file: options.auditFile ?? testAuditFile(),
      ...(options.auditCommitTimeoutSeconds ? { commitTimeoutSeconds: options.auditCommitTimeoutSeconds } : {}),
    },
    security: {
      tls: { certFile: f.server.certFile, keyFile: f.server.keyFile, ...(options.mtls ? { clientCaFile: f.pki.ca.certFile } : {}) },
      apiKeys: [
        { name: "deployer", sha256: f.keys.deployer.sha256 },
        { name: "reader", sha256: f.keys.reader.sha256 },
      ],
      grants: [
        { principals: ["spiffe://corp.example/ns/ci/*", "spiffe://corp.example/ns/ci/sa/*"], clusters: ["demo-*"], rpcs: ["*"] },
        { principals: ["key:deployer"], clusters: ["demo-eks"], rpcs: ["GenerateToken"] },
        { principals: ["key:reader"], clusters: ["*"], rpcs: ["ListClusters"] },
        { principals: ["key:reader"], clusters: ["demo-*"], rpcs: ["GetKubeconfig"] },
        { principals: ["cert:ops.example.com"], clusters: ["prod-*"], rpcs: ["GenerateToken", "ListClusters"] },
      ],
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.reflection === undefined ? {} : { reflection: options.reflection }),
    },
    credentials: {
      "aws-test": {
        provider: "aws",
        accessKeyId: { env: "CTS_TEST_AWS_ACCESS_KEY_ID" },
        secretAccessKey: { env: "CTS_TEST_AWS_SECRET_ACCESS_KEY" },
      },
    },
    clusters: [cluster("demo-eks", "demo"), cluster("prod-eks", "prod")],
  };
}

/** How a test client authenticates. */
export interface ClientAuth {
  ca: Buffer;
  cert?: IssuedCert;
  apiKey?: string;
}

/** Connect (HTTP/1.1 + TLS) and gRPC (HTTP/2 + TLS) clients of a secure service. */
export function secureClients(
  addresses: { httpAddress: string; grpcAddress: string },
  auth: ClientAuth,
): { connect: Client<typeof ClusterTokenService>; grpc: Client<typeof ClusterTokenService> } {
  const tls = { ca: auth.ca, ...(auth.cert ? { cert: auth.cert.cert, key: auth.cert.key } : {}) };
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${auth.apiKey}`);
    return next(req);
  };
  const interceptors = auth.apiKey ? [bearer] : [];
  return {
    connect: createClient(
      ClusterTokenService,
      createConnectTransport({ baseUrl: `https://${addresses.httpAddress}`, httpVersion: "1.1", nodeOptions: tls, interceptors }),
    ),
    grpc: createClient(
      ClusterTokenService,
      createGrpcTransport({ baseUrl: `https://${addresses.grpcAddress}`, nodeOptions: tls, interceptors }),
    ),
  };
}

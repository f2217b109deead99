import { readFileSync } from "node:fs";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { rawTestConfig } from "../support/test-config.js";

/** `cluster-token serve` on the development test config, with its audit file and a gRPC client. */
export interface AuditedProcess {
  readonly svc: ServeProcess;
  readonly auditFile: string;
  readonly client: Client<typeof ClusterTokenService>;
  /** GenerateToken for demo-eks with `requestId`; resolves with the token. */
  issue(requestId: string): Promise<string>;
  /** The audit file's lines, parsed (a line that does not parse throws): none torn, none glued. */
  auditLines(file?: string): Record<string, string>[];
  stop(): Promise<void>;
}

/**
 * Starts `cluster-token serve` on {@link rawTestConfig}, writing its audit log to a
 * fresh file; an issuance waits up to `commitTimeoutSeconds` for its line.
 */
export async function startAuditedProcess({ commitTimeoutSeconds = 1 } = {}): Promise<AuditedProcess> {
  const raw = rawTestConfig() as { audit: { file: string; commitTimeoutSeconds?: number } };
  raw.audit.commitTimeoutSeconds = commitTimeoutSeconds;
  const svc = await startServeProcess(raw, {
    env: {
      CTS_TEST_AWS_ACCESS_KEY_ID: process.env.CTS_TEST_AWS_ACCESS_KEY_ID,
      CTS_TEST_AWS_SECRET_ACCESS_KEY: process.env.CTS_TEST_AWS_SECRET_ACCESS_KEY,
    },
  });
  const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
  const auditFile = raw.audit.file;
  return {
    svc,
    auditFile,
    client,
    issue: async (requestId) =>
      (await client.generateToken({ clusterId: "demo-eks" }, { headers: { "x-request-id": requestId } })).status!.token,
    auditLines: (file = auditFile) => {
      const text = readFileSync(file, "utf8");
      if (text !== "" && !text.endsWith("\n")) throw new Error(`${file} ends with a torn line: ${JSON.stringify(text.slice(-120))}`);
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string>);
    },
    async stop() {
      svc.child.kill("SIGKILL");
      await svc.exited();
    },
  };
}

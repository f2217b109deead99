import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { bufPath, repoRoot } from "../support/paths.js";
import { startTestService, type RunningService } from "../support/running-service.js";

const run = promisify(execFile);

describe("gRPC reflection and health, through `buf curl` with no proto file", () => {
  let svc: RunningService;
  before(async () => {
    svc = await startTestService();
  });
  after(() => svc.close());

  const bufCurl = (...args: string[]) =>
    run(bufPath, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 30_000 });

  it("lists the service's and the health service's methods", async () => {
    const { stdout } = await bufCurl("--list-methods", svc.grpcUrl);
    assert.deepEqual(stdout.trim().split("\n"), [
      "clustertoken.v1.ClusterTokenService/GenerateToken",
      "clustertoken.v1.ClusterTokenService/GetKubeconfig",
      "clustertoken.v1.ClusterTokenService/ListClusters",
      "grpc.health.v1.Health/Check",
      "grpc.health.v1.Health/List",
      "grpc.health.v1.Health/Watch",
    ]);
  });

  it("reports SERVING for the server and for ClusterTokenService", async () => {
    for (const service of ["", "clustertoken.v1.ClusterTokenService"]) {
      const { stdout } = await bufCurl("-d", JSON.stringify({ service }), `${svc.grpcUrl}/grpc.health.v1.Health/Check`);
      assert.deepEqual(JSON.parse(stdout), { status: "SERVING" });
    }
  });

  it("calls GenerateToken by reflection", async () => {
    const { stdout } = await bufCurl("-d", '{"clusterId":"demo-eks"}', `${svc.grpcUrl}/clustertoken.v1.ClusterTokenService/GenerateToken`);
    const credential = JSON.parse(stdout) as { kind: string; status: { token: string; expirationTimestamp: string } };
    assert.equal(credential.kind, "ExecCredential");
    assert.match(credential.status.token, /^k8s-aws-v1\./);
    assert.match(credential.status.expirationTimestamp, /Z$/);
  });

  it("describes google.rpc.ErrorInfo, so reflection clients can decode error details", async () => {
    const files = await reflectFileContaining(svc.server.grpcAddress, "google.rpc.ErrorInfo");
    for (let i = 0; i < files.length; i++) {
      // Then its imports by name, as reflection clients do.
      for (const name of files[i]!.dependency) {
        if (!files.some((f) => f.name === name)) files.push(...(await reflectFileContaining(svc.server.grpcAddress, name, 3)));
      }
    }
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files.reverse() })); // imports first
    assert.ok(registry.getMessage("google.rpc.ErrorInfo"), "ErrorInfo is described, with its imports");
  });

  it("serves what the committed descriptor set describes: buf curl works from descriptors/ without reflection, and the set decodes error details", async () => {
    const setFile = join(repoRoot, "descriptors", "cluster-token.binpb");
    const schema = ["--reflect=false", "--schema", setFile];
    const { stdout } = await bufCurl(...schema, "-d", "{}", `${svc.grpcUrl}/clustertoken.v1.ClusterTokenService/ListClusters`);
    assert.equal((JSON.parse(stdout) as { clusters: { id: string }[] }).clusters[0]?.id, "demo-eks");
    const failed = await bufCurl(
      ...schema,
      "-d",
      '{"clusterId":"nope-eks"}',
      `${svc.grpcUrl}/clustertoken.v1.ClusterTokenService/GenerateToken`,
    ).then(
      () => assert.fail("an unknown cluster must fail"),
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );
    const printed = JSON.parse(failed.slice(failed.indexOf("{"))) as { details: { type: string; value: string }[] };
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(setFile)));
    const errorInfo = registry.getMessage(printed.details[0]!.type);
    assert.ok(errorInfo, `${printed.details[0]?.type} is in the descriptor set`);
    const decoded = toJson(errorInfo, fromBinary(errorInfo, Buffer.from(printed.details[0]!.value, "base64")));
    assert.deepEqual(decoded, { reason: "CLUSTER_NOT_FOUND", domain: "clustertoken.v1", metadata: { cluster_id: "nope-eks" } });
  });
});

/**
 * Asks the server's reflection service (v1) for files, as grpcurl does: those defining
 * a symbol (request field 4, file_containing_symbol) or one by name (3, file_by_filename).
 */
async function reflectFileContaining(address: string, symbol: string, requestField = 4): Promise<FileDescriptorProto[]> {
  const Client = grpc.makeGenericClientConstructor({}, "ServerReflection");
  const client = new Client(address, grpc.credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (request: Buffer) => request,
      (response: Buffer) => response,
    );
    const writer = new BinaryWriter().tag(requestField, WireType.LengthDelimited).string(symbol);
    const response = await new Promise<Buffer>((resolve, reject) => {
      call.once("data", resolve);
      call.once("error", reject);
      call.write(Buffer.from(writer.finish()));
    });
    call.end();
    // ServerReflectionResponse { file_descriptor_response (4): { file_descriptor_proto (1): bytes… } }
    const files: FileDescriptorProto[] = [];
    const outer = new BinaryReader(response);
    while (outer.pos < outer.len) {
      const [field, wireType] = outer.tag();
      if (field !== 4) {
        outer.skip(wireType);
        continue;
      }
      const inner = new BinaryReader(outer.bytes());
      while (inner.pos < inner.len) {
        const [innerField, innerType] = inner.tag();
        if (innerField === 1) files.push(fromBinary(FileDescriptorProtoSchema, inner.bytes()));
        else inner.skip(innerType);
      }
    }
    return files;
  } finally {
    client.close();
  }
}

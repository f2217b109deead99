import { create, type DescFile } from "@bufbuild/protobuf";
import { type FileDescriptorSet, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_clustertoken_v1_cluster_token_service } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { file_health_v1_health } from "../../gen/health/v1/health_pb.js";

/**
 * The proto files the service speaks: its contract, the standard health service,
 * and `google.rpc.ErrorInfo`, which every error carries in its details although no
 * RPC names it. Reflection serves these (with their imports), and the committed
 * FileDescriptorSet is built from them, so a reflection client, `grpcurl -protoset`
 * and Envoy's transcoder all decode the same messages, error details included.
 */
export const servedFiles: readonly DescFile[] = [
  file_clustertoken_v1_cluster_token_service,
  file_health_v1_health,
  file_google_rpc_error_details,
];

/** `files` and everything they import, each after its imports, as protoc orders a descriptor set. */
export function withImports(files: readonly DescFile[], ordered: DescFile[] = [], seen = new Set<DescFile>()): DescFile[] {
  for (const file of files) {
    if (seen.has(file)) continue;
    seen.add(file);
    withImports(file.dependencies, ordered, seen);
    ordered.push(file);
  }
  return ordered;
}

/** The FileDescriptorSet of {@link servedFiles}, for `grpcurl -protoset`, `buf curl --schema` and Envoy. */
export function servedDescriptorSet(): FileDescriptorSet {
  return create(FileDescriptorSetSchema, { file: withImports(servedFiles).map((file) => file.proto) });
}

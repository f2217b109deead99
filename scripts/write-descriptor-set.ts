/**
 * Writes `descriptors/cluster-token.binpb`, the FileDescriptorSet of what the service
 * speaks (its contract, grpc.health.v1 and google.rpc.ErrorInfo, with their imports),
 * from the same descriptors that reflection serves. `npm run generate` runs it after
 * `buf generate`, and CI fails when the committed file drifts.
 *
 * Use it with `grpcurl -protoset`, `buf curl --schema` or Envoy's gRPC-JSON transcoder.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { servedDescriptorSet } from "../src/transports/served-files.js";

/** The committed descriptor set, relative to the repository root. */
const target = fileURLToPath(new URL("../../descriptors/cluster-token.binpb", import.meta.url));
writeFileSync(target, toBinary(FileDescriptorSetSchema, servedDescriptorSet()));
console.log(`wrote ${target}`);

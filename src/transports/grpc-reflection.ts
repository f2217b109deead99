import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";
import type * as grpc from "@grpc/grpc-js";
import { withImports } from "./served-files.js";

type ReflectionInput = ConstructorParameters<typeof ReflectionService>[0];

/**
 * Adds gRPC server reflection (v1 and v1alpha) describing `files` and everything
 * they import, straight from the descriptors protobuf-es generated: there is no
 * second copy of any proto for reflection to drift from.
 */
export function addGrpcReflection(server: grpc.Server, files: readonly DescFile[]): void {
  const fileDescriptorProtos = withImports(files).map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  // @grpc/reflection reads only `fileDescriptorProtos` from the values of a proto-loader package definition.
  const packageDefinition = { files: { fileDescriptorProtos } } as unknown as ReflectionInput;
  new ReflectionService(packageDefinition).addToServer(server);
}

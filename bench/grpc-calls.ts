import { create, toBinary } from "@bufbuild/protobuf";
import { GenerateTokenRequestSchema, ListClustersRequestSchema } from "../gen/clustertoken/v1/cluster_token_service_pb.js";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import type { GrpcCall } from "./load-generators.js";

/**
 * The gRPC calls every benchmark drives, defined once: GenerateToken for the cluster
 * `startServerProcess` grants (`bench-eks`), ListClusters, and the standard
 * Health/Check that the ratios compare against.
 */
export const grpcCalls = {
  GenerateToken: {
    path: "/clustertoken.v1.ClusterTokenService/GenerateToken",
    message: toBinary(GenerateTokenRequestSchema, create(GenerateTokenRequestSchema, { clusterId: "bench-eks" })),
  },
  ListClusters: {
    path: "/clustertoken.v1.ClusterTokenService/ListClusters",
    message: toBinary(ListClustersRequestSchema, create(ListClustersRequestSchema)),
  },
  Health: {
    path: "/grpc.health.v1.Health/Check",
    message: toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema)),
  },
} satisfies Record<string, GrpcCall>;

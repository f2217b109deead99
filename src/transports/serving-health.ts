import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";

/**
 * The serving status of the process, reported by the standard grpc.health.v1
 * service on both listeners: by grpc-health-check on the gRPC listener, and through
 * Connect (`POST /grpc.health.v1.Health/Check`) on the HTTP one, for load balancers
 * and probes that speak only HTTP/1.1. Health checks need no authentication.
 */
export class ServingHealth {
  private readonly grpcHealth: HealthImplementation;
  private serving = false;

  /** `services` are the names reported; "" is the whole server. */
  constructor(private readonly services: readonly string[]) {
    this.grpcHealth = new HealthImplementation(Object.fromEntries(services.map((s) => [s, "NOT_SERVING"])));
  }

  /** Reports SERVING or NOT_SERVING for every service, on both listeners. */
  setServing(serving: boolean): void {
    this.serving = serving;
    for (const service of this.services) this.grpcHealth.setStatus(service, serving ? "SERVING" : "NOT_SERVING");
  }

  /** Whether SERVING is reported now. */
  get isServing(): boolean {
    return this.serving;
  }

  addToGrpcServer(server: grpc.Server): void {
    this.grpcHealth.addToServer(server);
  }

  /** Registers `Health/Check` on a Connect router. Unknown service names are NOT_FOUND, as the health protocol says. */
  addToConnectRouter(router: ConnectRouter): void {
    router.service(Health, {
      check: ({ service }) => {
        if (!this.services.includes(service))
          throw new ConnectError(`unknown service ${JSON.stringify(service.slice(0, 200))}`, Code.NotFound);
        return { status: this.serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING };
      },
    });
  }
}

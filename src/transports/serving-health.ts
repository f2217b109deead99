import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation, service as healthService } from "grpc-health-check";
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

  /** Registers the whole health service (Check, Watch, List) on a grpc-js server. */
  addToGrpcServer(server: grpc.Server): void {
    this.grpcHealth.addToServer(server);
  }

  /**
   * Registers `Health/Check` alone on a grpc-js server: the plaintext health port,
   * whose client is the kubelet's probe. A `Watch` there would be a stream that never
   * ends, which unauthenticated clients could pile up until the port's calls in
   * flight were full and the kubelet's checks refused.
   */
  addCheckToGrpcServer(server: grpc.Server): void {
    const check = healthService.Check;
    if (check === undefined) throw new Error("@private grpc-health-check no longer defines grpc.health.v1.Health/Check");
    server.addService(
      { Check: check },
      {
        check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          const serving = this.servingOf(call.request.service);
          if (serving === undefined) callback({ code: grpc.status.NOT_FOUND, details: unknownService(call.request.service) });
          else callback(null, { status: serving ? "SERVING" : "NOT_SERVING" });
        },
      },
    );
  }

  /** Registers `Health/Check` on a Connect router. Unknown service names are NOT_FOUND, as the health protocol says. */
  addToConnectRouter(router: ConnectRouter): void {
    router.service(Health, {
      check: ({ service }) => {
        const serving = this.servingOf(service);
        if (serving === undefined) throw new ConnectError(unknownService(service), Code.NotFound);
        return { status: serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING };
      },
    });
  }

  /** Whether `service` is reported SERVING; undefined for a name this process does not report. */
  private servingOf(service: string): boolean | undefined {
    return this.services.includes(service) ? this.serving : undefined;
  }
}

const unknownService = (service: string) => `unknown service ${JSON.stringify(service.slice(0, 200))}`;

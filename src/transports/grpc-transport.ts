import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { PresentedCredentials } from "../auth/authenticator.js";
import type { RequestHeaders, TransportCall } from "../core/call-context.js";
import { cancellationReason } from "../common/deadline.js";
import { toConnectError } from "./error-status.js";
import { grpcStatus } from "./grpc-answers.js";
import { enforceCompressedFlagRule } from "./grpc-compressed-flag.js";
import { requestIdFrom, requestIdHeader } from "./request-id.js";
import { UndecodableRequest } from "../pipeline/invocation.js";
import type { UnaryInvoker } from "./unary-invoker.js";

/**
 * Serves the unary methods of `service` on a grpc-js server through `invoke`. The
 * grpc-js service definition is derived from the protobuf-es descriptor, so adding
 * an RPC to the proto needs no change here.
 */
export function addGrpcService(server: grpc.Server, service: DescService, invoke: UnaryInvoker): void {
  enforceCompressedFlagRule();
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    if (!isUnary(method)) throw new Error(`@private ${method.name}: only unary methods are served`);
    definition[method.name] = methodDefinition(service, method);
    implementation[method.name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const headers = new GrpcHeaders(call.metadata);
      const requestId = requestIdFrom(headers.get(requestIdHeader));
      // The response headers go out with the answer, in the same write as its message and status: sent at once, they
      // would be a packet of their own for every call that waits (an issuance waits for its audit line). A call with a
      // deadline sends them at once all the same, since grpc-js answers DEADLINE_EXCEEDED by itself when it passes, and
      // that answer must carry the request id too. grpc-js sends headers once; a second call is ignored.
      const sendHeader = () => {
        const header = new grpc.Metadata();
        header.set(requestIdHeader, requestId);
        call.sendMetadata(header);
      };
      const deadline = grpcDeadline(call);
      if (deadline !== undefined) sendHeader();
      const transportCall = new GrpcCall(call, requestId, deadline, headers);
      invoke(method, call.request as never, transportCall).then(
        (response) => {
          transportCall.release();
          sendHeader();
          callback(null, response);
        },
        (failure: unknown) => {
          transportCall.release();
          sendHeader();
          callback(grpcStatus(toConnectError(failure)));
        },
      );
    };
  }
  server.addService(definition, implementation);
}

function isUnary(method: DescMethod): method is DescMethodUnary {
  return method.methodKind === "unary";
}

function methodDefinition(service: DescService, method: DescMethodUnary): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    originalName: method.localName,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message) => Buffer.from(toBinary(method.input, message as never)),
    requestDeserialize: (bytes) => {
      try {
        return fromBinary(method.input, bytes);
      } catch (err) {
        return new UndecodableRequest(err);
      }
    },
    responseSerialize: (response) => encodeResponse(method.output, response as MessageInitShape<DescMessage>),
    responseDeserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

const frozenEncodings = new WeakMap<object, Buffer>();

/**
 * The wire form of a response. A frozen response is immutable (the handlers freeze
 * the ExecCredential of a cached token, and return that same object while the token
 * is reused), so its encoding is kept with it and a cached GenerateToken is not
 * encoded again. grpc-js copies the bytes into its frame and never changes them.
 */
function encodeResponse(schema: DescMessage, response: MessageInitShape<DescMessage>): Buffer {
  if (!Object.isFrozen(response)) return Buffer.from(toBinary(schema, create(schema, response)));
  let bytes = frozenEncodings.get(response);
  if (bytes === undefined) {
    bytes = Buffer.from(toBinary(schema, create(schema, response)));
    frozenEncodings.set(response, bytes);
  }
  return bytes;
}

/**
 * One gRPC call as the pipeline sees it. A class, not an object literal: a literal
 * with a getter (the lazy signal) and conditional spreads is built in V8's slow
 * dictionary mode on every call, and in a profile of the transport alone, that
 * object and its garbage were a large part of what a call cost beyond grpc-js.
 *
 * The signal aborts when the client cancels ("AbortError"). It is built only when
 * the call first asks for it, so a call answered from memory never pays for a
 * controller and a listener. The deadline is applied by the invoker. grpc-js also
 * emits "cancelled" once a finished call's stream closes, so {@link release}
 * detaches first.
 */
class GrpcCall implements TransportCall {
  readonly transport = "grpc";
  private controller: AbortController | undefined;
  private onCancelled: (() => void) | undefined;

  constructor(
    private readonly call: grpc.ServerUnaryCall<unknown, unknown>,
    readonly requestId: string,
    readonly deadline: number | undefined,
    readonly headers: RequestHeaders,
  ) {}

  /** The verified client certificate, read from grpc-js only by the link that asks (authentication). */
  get peerCertificate(): PresentedCredentials["peerCertificate"] {
    return this.call.getAuthContext().sslPeerCertificate;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      const onCancelled = () => controller.abort(cancellationReason());
      this.controller = controller;
      this.onCancelled = onCancelled;
      if (this.call.cancelled) onCancelled();
      else this.call.once("cancelled", onCancelled);
    }
    return this.controller.signal;
  }

  /** The call is answered: stop following its cancellation. */
  release(): void {
    if (this.onCancelled !== undefined) this.call.removeListener("cancelled", this.onCancelled);
  }
}

/** gRPC metadata as the pipeline's read-only header view; binary values in base64. */
class GrpcHeaders implements RequestHeaders {
  constructor(private readonly metadata: grpc.Metadata) {}

  get(name: string): string | undefined {
    const values = this.metadata.get(name);
    if (values.length === 1 && typeof values[0] === "string") return values[0];
    if (values.length === 0) return undefined;
    return values.map((value) => (typeof value === "string" ? value : value.toString("base64"))).join(", ");
  }
}

/** The client's `grpc-timeout` as an instant, when it sent one. */
function grpcDeadline(call: grpc.ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

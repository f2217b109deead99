import type { IncomingMessage, ServerResponse } from "node:http";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { ErrorReason } from "../errors/error-reasons.js";
import { ServiceError } from "../errors/service-error.js";
import { toConnectError } from "./error-status.js";
import { requestIdFrom, requestIdHeader } from "./request-id.js";

/** What each body-less rejection of connect-es becomes: a reason, and what to send instead. */
const rejections: Record<number, { reason: ErrorReason; message: string }> = {
  405: {
    reason: "METHOD_NOT_ALLOWED",
    message: "use POST, or GET with ?encoding=json&message=<JSON> for methods without side effects",
  },
  415: {
    reason: "UNSUPPORTED_MEDIA_TYPE",
    message:
      "send content-type application/json (Connect JSON), application/proto or application/grpc-web+proto; " +
      "a GET needs encoding=json or encoding=proto",
  },
};

function jsonErrorBody(reason: ErrorReason, message: string): Uint8Array {
  return errorToJsonBytes(toConnectError(new ServiceError({ reason, message })), {});
}

/**
 * Gives connect-es's body-less rejections (405 for a wrong HTTP method, 415 for a
 * content type or GET encoding it cannot read) a Connect JSON error body saying what
 * to send, and an `x-request-id`, like every other answer of the service.
 */
export function withRejectionBodies(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const rejection = rejections[res.status];
    if (!rejection || res.body !== undefined) return res;
    const header = new Headers(res.header);
    header.set("content-type", "application/json");
    header.set(requestIdHeader, requestIdFrom(req.header.get(requestIdHeader)));
    const body = jsonErrorBody(rejection.reason, rejection.message);
    return {
      ...res,
      header,
      body: (async function* () {
        yield body;
      })(),
    };
  };
  return Object.assign(wrapped, handler);
}

/**
 * The answer for a path no route serves: 404 with a Connect JSON error naming the
 * services served, instead of connect-node's empty 404. `routePaths` is read on
 * each call, since routes are registered after the fallback is made.
 */
export function unknownPathFallback(routePaths: readonly string[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const services = [...new Set(routePaths.map((path) => path.split("/")[1]))].join(", ");
    const message = `no such method: call POST /<service>/<method>, where the services are ${services}`;
    const requestId = requestIdFrom([req.headers[requestIdHeader]].flat()[0]);
    res.writeHead(404, { "content-type": "application/json", [requestIdHeader]: requestId });
    res.end(jsonErrorBody("UNKNOWN_METHOD", message));
  };
}

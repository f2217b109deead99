import { ServiceError } from "../errors/service-error.js";
import { UndecodableRequest } from "./invocation.js";
import { defineLink } from "./link.js";

/** Answers a request that could not be decoded with INVALID_ARGUMENT (`MALFORMED_REQUEST`) before any handler runs. */
export const rejectUndecodable = defineLink({
  name: "rejectUndecodable",
  wrap: (next) => (invocation) => {
    const { request, method } = invocation;
    if (request instanceof UndecodableRequest) {
      throw new ServiceError({
        reason: "MALFORMED_REQUEST",
        message: `the request is not a valid ${method.input.typeName} message${request.problem ? `: ${request.problem}` : ""}`,
        cause: request.cause,
      });
    }
    return next(invocation);
  },
});

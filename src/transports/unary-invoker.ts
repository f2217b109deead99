import type { DescMessage, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { TransportCall } from "../core/call-context.js";
import type { UndecodableRequest } from "../pipeline/invocation.js";

/**
 * What both transports call for every RPC: the service's call pipeline
 * (`src/pipeline/call-runner.ts`) behind the service. It answers with the response,
 * or rejects with the pipeline's `ClassifiedFailure`, which a transport turns into
 * its wire form with `toConnectError` (`error-status.ts`). Transports do nothing
 * else with a call: they translate wire objects to a {@link TransportCall} and back.
 */
export type UnaryInvoker = <I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  request: MessageShape<I> | UndecodableRequest,
  call: TransportCall,
) => Promise<MessageInitShape<O>>;

import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallContext, Outcome } from "./call-context.js";

type UnaryHandler<M> = M extends { input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageShape<I>, context: CallContext) => Promise<Outcome<MessageInitShape<O>>>
  : never;

/**
 * A transport-free implementation of a protobuf service: one function per RPC,
 * keyed like the generated service's `method` map, taking the decoded request and a
 * {@link CallContext}, and returning the response with the facts worth auditing.
 * Transports adapt it; it never sees one.
 */
export type ServiceHandlers<S extends { method: Record<string, DescMethod> }> = {
  [K in keyof S["method"]]: UnaryHandler<S["method"][K]>;
};

/** The transports the service is served over. */
export type TransportName = "grpc" | "connect";

/**
 * What the core knows of a call, whatever transport carried it. Transports build it;
 * the core and drivers never see a transport object.
 */
export interface CallContext {
  readonly transport: TransportName;
  /** The caller's `x-request-id`, or one generated for this call; echoed in the response and logs. */
  readonly requestId: string;
  /**
   * Aborted when the caller cancels or its deadline passes. The abort reason is a
   * DOMException named "TimeoutError" for a deadline and "AbortError" otherwise.
   */
  readonly signal: AbortSignal;
}

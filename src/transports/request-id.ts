import { cancellationReason, deadlineReason } from "../core/deadline.js";
import { randomUUID } from "node:crypto";

/** The header that carries a request id in and out, on both transports. */
export const requestIdHeader = "x-request-id";

const acceptable = /^[\w.:-]{1,128}$/;

/**
 * The caller's request id when it is a plausible one (1 to 128 characters of
 * `[A-Za-z0-9_.:-]`), else a fresh UUID, so that ids copied into logs can neither
 * forge log structure nor grow without bound.
 */
export function requestIdFrom(header: string | undefined | null): string {
  return header && acceptable.test(header) ? header : randomUUID();
}

/**
 * A signal for the core that aborts with `parent` and says why in the way the core
 * understands: a DOMException named "TimeoutError" when `isDeadline` judges the
 * parent's reason to be a passed deadline, "AbortError" otherwise.
 */
export function callSignal(parent: AbortSignal, isDeadline: (reason: unknown) => boolean): AbortSignal {
  const controller = new AbortController();
  const forward = () => controller.abort(isDeadline(parent.reason) ? deadlineReason() : cancellationReason());
  if (parent.aborted) forward();
  else parent.addEventListener("abort", forward, { once: true });
  return controller.signal;
}

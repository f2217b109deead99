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

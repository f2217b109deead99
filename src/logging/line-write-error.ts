/**
 * Why a line awaited through a line writer's `appendAndWait` was not written: the
 * write failed (its errno is in the message and the cause), the sink stayed stalled
 * past the caller's deadline, the queue was full, or the writer was closed.
 */
export class LineWriteError extends Error {
  override readonly name = "LineWriteError";
}

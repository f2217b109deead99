import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";
import type { Clock } from "../common/clock.js";
import { errorSummary } from "../logging/logger.js";

/** At most one warning per this long about failed exports, however often the collector fails. */
export const exportWarningIntervalMs = 60_000;

/**
 * An exporter that says when spans are lost. The SDK reports a failed export only to
 * OpenTelemetry's diagnostic logger, which nobody reads; this logs a `warn` line
 * with the number of spans dropped and the scrubbed cause, at most once a minute (a
 * collector that is down fails every batch), and the spans still unreported when
 * it stops.
 */
export class ReportingExporter implements SpanExporter {
  private unreported = 0;
  private lastWarning = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.failed(spans.length, result.error);
      done(result);
    });
  }

  async shutdown(): Promise<void> {
    await this.inner.shutdown();
    this.stop();
  }

  /**
   * Says what is still unreported, and nothing after: an export abandoned at exit
   * fails after the process's last line, which must stay its last.
   */
  stop(): void {
    if (this.stopped) return;
    this.warnOfUnreported(undefined);
    this.stopped = true;
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private failed(spans: number, error: Error | undefined): void {
    if (this.stopped) return;
    this.unreported += spans;
    if (this.clock.now() - this.lastWarning >= exportWarningIntervalMs) this.warnOfUnreported(error);
  }

  private warnOfUnreported(error: Error | undefined): void {
    if (this.unreported === 0) return;
    const fields = { spans: this.unreported, ...(error ? { error: errorSummary(error, this.logger) } : {}) };
    this.logger.warn(fields, "trace export failed; its spans are dropped");
    this.unreported = 0;
    this.lastWarning = this.clock.now();
  }
}

import type { DestinationStream } from "pino";

/** A pino destination that keeps every line, so tests can assert on logs and scan them for secrets. */
export class LogCapture implements DestinationStream {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  /** Every line parsed as JSON. */
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** All captured text, for substring scans. */
  text(): string {
    return this.lines.join("");
  }
}

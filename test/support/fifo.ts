import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A named pipe whose reader the test controls: a log shipper that can hang and recover. */
export interface ControlledFifo {
  readonly path: string;
  /** Everything read so far. */
  text(): string;
  /** Stops reading: once the pipe's buffer (64 KiB on Linux) and the reader's (up to 64 KiB) are full, writers get EAGAIN. */
  stall(): void;
  /** Reads again. */
  resume(): void;
  /** Resolves once what has been read contains `count` newlines, or rejects after `timeoutMs`. */
  waitForLines(count: number, timeoutMs?: number): Promise<string[]>;
  /** Resolves with everything read once every writer has closed the pipe (reading resumes if stalled). */
  readToEnd(timeoutMs?: number): Promise<string>;
  close(): void;
}

/** Creates a FIFO with a reader attached (so a writer can open it), initially stalled. */
export function controlledFifo(): ControlledFifo {
  const path = join(mkdtempSync(join(tmpdir(), "cts-fifo-")), "sink");
  execFileSync("mkfifo", [path]);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let text = "";
  // Created on the first resume: a socket reads ahead into its own buffer even while paused.
  let reader: Socket | undefined;
  const attach = () => {
    reader = new Socket({ fd, readable: true, writable: false });
    reader.setEncoding("utf8");
    reader.on("data", (chunk: string) => {
      text += chunk;
    });
    return reader;
  };
  const lines = () => text.split("\n").slice(0, -1);
  return {
    path,
    text: () => text,
    stall: () => reader?.pause(),
    resume: () => (reader ?? attach()).resume(),
    async waitForLines(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (lines().length < count) {
        if (Date.now() > deadline) throw new Error(`only ${lines().length} of ${count} lines arrived`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return lines();
    },
    readToEnd(timeoutMs = 10_000) {
      const socket = reader ?? attach();
      socket.resume();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the FIFO's writers never closed it")), timeoutMs);
        socket.once("end", () => {
          clearTimeout(timer);
          resolve(text);
        });
      });
    },
    close: () => (reader ? reader.destroy() : closeSync(fd)),
  };
}

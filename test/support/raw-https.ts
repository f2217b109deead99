import { request } from "node:https";

/**
 * One HTTPS POST with a raw body and headers, trusting `ca`: the status and body
 * text. A write error after the server has already answered (it may refuse a large
 * body early) is expected and ignored.
 */
export function httpsPost(
  url: string,
  ca: Buffer,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", ca, headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => (err.code === "EPIPE" || err.code === "ECONNRESET" ? undefined : reject(err)));
    req.end(body);
  });
}

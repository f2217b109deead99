import { get } from "node:http";
import { grpcCalls } from "./grpc-calls.js";
import { h2load, sideBySide } from "./load-generators.js";
import { startServerProcess } from "./server-process.js";

const generateToken = grpcCalls.GenerateToken;

/** Scrapes `url` every `everyMs` until stopped; returns how many scrapes completed. */
function scrapeEvery(url: string, everyMs: number): { stop(): number } {
  let scrapes = 0;
  const timer = setInterval(() => {
    get(url, (res) => {
      res.resume();
      res.on("end", () => scrapes++);
    }).on("error", () => {});
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return scrapes;
    },
  };
}

/**
 * Whether scraping `/metrics` slows issuance: gRPC GenerateToken (h2load) with and
 * without a scraper polling at 10 Hz (Prometheus scrapes every 15 s or so),
 * side by side.
 */
export async function benchMetricsScrape(): Promise<string> {
  const server = await startServerProcess({ metrics: true });
  try {
    let scrapes = 0;
    const load = () => h2load(`https://${server.grpc}`, generateToken, { headers: server.headers, seconds: 4 });
    const {
      a: quiet,
      b: scraped,
      ratio,
    } = await sideBySide(load, async () => {
      const scraper = scrapeEvery(`http://${server.metrics}/metrics`, 100);
      try {
        return await load();
      } finally {
        scrapes += scraper.stop();
      }
    });
    return `| gRPC GenerateToken while /metrics is scraped at 10 Hz (${scrapes} scrapes) | ${Math.round(scraped.rate).toLocaleString("en-US")} req/s ÷ ${Math.round(quiet.rate).toLocaleString("en-US")} req/s unscraped: **${ratio}** | |`;
  } finally {
    await server.stop();
  }
}

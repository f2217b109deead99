import type { Server } from "node:net";

/** A parsed `listen.*` address. */
export interface ListenAddress {
  /** The host without IPv6 brackets, e.g. "127.0.0.1" or "::1". */
  host: string;
  port: number;
}

/** Parses "host:port" or "[ipv6]:port", as validated by the config schema. */
export function parseListenAddress(address: string): ListenAddress {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(address.slice(colon + 1)) };
}

/** Formats a host and port the way URLs and grpc-js want them, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Binds `server` to `address` ("host:port", as validated by the config schema) and
 * resolves with the bound address, with the real port when the address said 0: the
 * one way every listener binds.
 *
 * @throws an Error saying what could not listen where and why, e.g. `cannot listen
 *   for gRPC on 127.0.0.1:50051: listen EADDRINUSE: …`.
 */
export function bindAddress(server: Server, address: string, what: string): Promise<string> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot listen for ${what} on ${address}: ${err.message}`)));
    server.listen(port, host, () => {
      const bound = server.address();
      resolve(formatHostPort(host, typeof bound === "object" && bound ? bound.port : port));
    });
  });
}

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

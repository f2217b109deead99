import type { GcpCredentialConfig } from "../../config/config-schema.js";
import type { ClusterOf, ProviderDrivers, ProviderOptions } from "../driver.js";
import { GcpCredentialSource } from "./gcp-credentials.js";
import { GkeClusterDescriber } from "./gke-describer.js";
import { GkeTokenDriver } from "./gke-driver.js";

/** The Google Cloud drivers, sharing one google-auth-library client per credential entry. */
export function createGcpProvider(
  credentials: Readonly<Record<string, GcpCredentialConfig>>,
  options: ProviderOptions,
): ProviderDrivers<ClusterOf<"gcp">> {
  const sources = new Map(Object.entries(credentials).map(([name, entry]) => [name, new GcpCredentialSource(entry, options)]));
  return { token: new GkeTokenDriver(sources), describer: new GkeClusterDescriber(sources) };
}

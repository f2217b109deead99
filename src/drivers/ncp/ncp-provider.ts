import type { NcpCredentialConfig } from "../../config/config-schema.js";
import type { ClusterOf, ProviderDrivers, ProviderOptions } from "../driver.js";
import { NksClusterDescriber } from "./nks-describer.js";
import { NksTokenDriver } from "./nks-driver.js";

/** The NAVER Cloud drivers. */
export function createNcpProvider(
  credentials: Readonly<Record<string, NcpCredentialConfig>>,
  { upstreamTimeoutMs, now }: ProviderOptions,
): ProviderDrivers<ClusterOf<"ncp">> {
  const entries = new Map(Object.entries(credentials));
  return { token: new NksTokenDriver(entries, now), describer: new NksClusterDescriber(entries, upstreamTimeoutMs, now) };
}

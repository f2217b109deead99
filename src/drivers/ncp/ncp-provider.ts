import { defineProvider } from "../provider-module.js";
import { ncpClusterSchema, ncpCredentialSchema } from "./ncp-config.js";
import { NksClusterDescriber } from "./nks-describer.js";
import { NksTokenDriver } from "./nks-driver.js";

/** NAVER Cloud NKS: HMAC-signed tokens, and the NKS kubeconfig API for discovery. */
export const ncpProvider = defineProvider({
  name: "ncp",
  credentialSchema: ncpCredentialSchema,
  clusterSchema: ncpClusterSchema,
  create(credentials, { upstreamTimeoutMs, now }) {
    const entries = new Map(Object.entries(credentials));
    return { token: new NksTokenDriver(entries, now), describer: new NksClusterDescriber(entries, upstreamTimeoutMs, now) };
  },
});

import { defineProvider } from "../provider-module.js";
import { ncpClusterSchema, ncpCredentialSchema, ncpProviderName } from "./ncp-config.js";
import { NksClusterDescriber } from "./nks-describer.js";
import { NksTokenDriver } from "./nks-driver.js";

/** NAVER Cloud NKS: HMAC-signed tokens, and the NKS kubeconfig API for discovery. */
export const ncpProvider = defineProvider({
  name: ncpProviderName,
  credentialSchema: ncpCredentialSchema,
  clusterSchema: ncpClusterSchema,
  secretShapes: {
    patterns: [
      // NKS tokens: `k8s-ncp-v1.` (nks-token.ts) and the standard base64 of the signed claim.
      /k8s-ncp-v1\.[\w+/=-]+/g,
      // Sub-account API keys (`ncp_iam_BPA…` access keys, `ncp_iam_BPK…` secret keys). Older access keys are 20
      // characters with no mark of their own; the secret key is the long run the generic shapes catch.
      /\bncp_iam_[A-Za-z0-9]{8,}\b/g,
    ],
    fields: ["secretKey"],
  },
  // NKS knows a cluster by UUID; the name is the optional one the entry gives.
  placement: ({ region, name }) => ({ region, name }),
  create(credentials, { upstreamTimeoutMs, clock }) {
    const entries = new Map(Object.entries(credentials));
    return { token: new NksTokenDriver(entries, clock), describer: new NksClusterDescriber(entries, upstreamTimeoutMs, clock) };
  },
});

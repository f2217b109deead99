import { defineProvider } from "../provider-module.js";
import { ncpAccountSchema, ncpClusterSchema, ncpCredentialSchema, ncpProviderName } from "./ncp-config.js";
import { NksApi } from "./nks-api.js";
import { NksClusterDescriber } from "./nks-describer.js";
import { NksTokenDriver } from "./nks-driver.js";
import { NksClusterLister } from "./nks-lister.js";

/** NAVER Cloud NKS: HMAC-signed tokens, the NKS kubeconfig API for discovery, and its cluster list for accounts. */
export const ncpProvider = defineProvider({
  name: ncpProviderName,
  credentialSchema: ncpCredentialSchema,
  clusterSchema: ncpClusterSchema,
  // NKS clusters have no tags: the filter key is named for the messages and docs, and the schema refuses a filter.
  discovery: { accountSchema: ncpAccountSchema, filterKey: "tags", scopes: (account) => account.regions },
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
    const api = new NksApi(entries, upstreamTimeoutMs, clock);
    return { token: new NksTokenDriver(entries, clock), describer: new NksClusterDescriber(api), lister: new NksClusterLister(api) };
  },
});

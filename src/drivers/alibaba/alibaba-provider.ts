import { defineProvider } from "../provider-module.js";
import { AckClusterDescriber } from "./ack-describer.js";
import { AckTokenDriver } from "./ack-driver.js";
import { AckClusterLister } from "./ack-lister.js";
import { alibabaAccountSchema, alibabaClusterSchema, alibabaCredentialSchema, alibabaProviderName } from "./alibaba-config.js";
import { AlibabaCredentials } from "./alibaba-credentials.js";
import { ContainerServiceApi } from "./cs-api.js";

/**
 * Alibaba Cloud ACK: ack-ram-tool's ACS3-signed RAM tokens, and the Container
 * Service API for discovery and for listing accounts' clusters.
 */
export const alibabaProvider = defineProvider({
  name: alibabaProviderName,
  credentialSchema: alibabaCredentialSchema,
  clusterSchema: alibabaClusterSchema,
  discovery: { accountSchema: alibabaAccountSchema, filterKey: "tags", scopes: (account) => account.regions },
  secretShapes: {
    patterns: [
      // ACK RAM tokens: `k8s-ack-v2.` (ack-token.ts) and the standard base64 of the signed request.
      /k8s-ack-v2\.[\w+/=-]+/g,
      // AccessKey ids of RAM users (LTAI…) and of STS credentials (STS.…); STS security tokens (CAIS…).
      /\bLTAI[0-9A-Za-z]{12,30}\b/g,
      /\bSTS\.[0-9A-Za-z]{16,64}\b/g,
      /\bCAIS[\w+/=]{16,}/g,
    ],
    fields: ["accessKeySecret", "AccessKeySecret", "securityToken", "SecurityToken"],
  },
  // ACK knows a cluster by its id; the name is the optional one the entry gives.
  placement: ({ region, name }) => ({ region, name }),
  /** The drivers share one set of credentials, so that an assumed role is assumed once for minting, describing and listing. */
  create(credentials, { upstreamTimeoutMs, clock }) {
    const keys = new AlibabaCredentials(new Map(Object.entries(credentials)), upstreamTimeoutMs, clock);
    const api = new ContainerServiceApi(keys, upstreamTimeoutMs, clock);
    return { token: new AckTokenDriver(keys, clock), describer: new AckClusterDescriber(api), lister: new AckClusterLister(api) };
  },
});

import { defineProvider } from "../provider-module.js";
import { AckClusterDescriber } from "./ack-describer.js";
import { AckTokenDriver } from "./ack-driver.js";
import { alibabaClusterSchema, alibabaCredentialSchema } from "./alibaba-config.js";
import { AlibabaCredentials } from "./alibaba-credentials.js";

/** Alibaba Cloud ACK: ack-ram-tool's ACS3-signed RAM tokens, and the Container Service API for discovery. */
export const alibabaProvider = defineProvider({
  name: "alibaba",
  credentialSchema: alibabaCredentialSchema,
  clusterSchema: alibabaClusterSchema,
  create(credentials, { upstreamTimeoutMs, now }) {
    const keys = new AlibabaCredentials(new Map(Object.entries(credentials)), upstreamTimeoutMs, now);
    return { token: new AckTokenDriver(keys, now), describer: new AckClusterDescriber(keys, upstreamTimeoutMs, now) };
  },
});

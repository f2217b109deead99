import { isAbsolute } from "node:path";
import { z } from "zod";
import {
  accountBase,
  always,
  baseUrlSchema,
  clusterBase,
  httpsUrlSchema,
  scopeListSchema,
  secretRefSchema,
} from "../../config/schema-parts.js";

/** The `provider` value of Azure entries, and the name errors and metrics give the cloud. */
export const azureProviderName = "azure";
/** The AKS AAD server application: the same id in every Azure cloud. */
export const aksServerAppId = "6dae42f8-4368-4678-94ff-3960e28e3630";
/** Microsoft Entra ID in Azure's public cloud. */
export const defaultAuthorityHost = "https://login.microsoftonline.com";
/** Azure Resource Manager in Azure's public cloud. */
export const defaultArmEndpoint = "https://management.azure.com";
/** The instance metadata service, where managed identities get tokens. */
export const defaultImdsEndpoint = "http://169.254.169.254";

const absolutePath = z.string().refine((path) => isAbsolute(path), "must be an absolute path");
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a GUID");

/**
 * An Azure credential: a Microsoft Entra application or managed identity, and where
 * it proves itself. `source` picks one of kubelogin's server-side login modes:
 * - `clientSecret` (spn): `tenantId`, `clientId`, `clientSecret`;
 * - `clientCertificate` (spn): `tenantId`, `clientId`, `clientCertificate`, a PEM file holding the certificate and its private key;
 * - `workloadIdentity`: `tenantId`, `clientId`, and the federated token file (`federatedTokenFile`, default `$AZURE_FEDERATED_TOKEN_FILE`);
 * - `managedIdentity` (msi): IMDS, with `clientId` for a user-assigned identity.
 */
export const azureCredentialSchema = z
  .strictObject({
    provider: z.literal(azureProviderName),
    source: z.enum(["clientSecret", "clientCertificate", "workloadIdentity", "managedIdentity"]),
    tenantId: z
      .string()
      .regex(/^[\w.-]{1,253}$/, "must be a tenant id (GUID) or domain")
      .optional(),
    clientId: guid.optional(),
    clientSecret: secretRefSchema.optional(),
    clientCertificate: secretRefSchema.optional(),
    federatedTokenFile: absolutePath.optional(),
    /** Entra ID's host, for sovereign clouds (https://login.microsoftonline.us, https://login.chinacloudapi.cn) and tests. */
    authorityHost: httpsUrlSchema.default(defaultAuthorityHost),
    imdsEndpoint: baseUrlSchema.default(defaultImdsEndpoint),
    /** A PEM bundle trusted for Entra ID and ARM besides the system's, for a TLS-inspecting proxy or a test. */
    caFile: absolutePath.optional(),
  })
  .superRefine((c, ctx) => {
    const require = (key: "tenantId" | "clientId" | "clientSecret" | "clientCertificate") => {
      if (c[key] === undefined) ctx.addIssue({ code: "custom", input: c, path: [key], message: `is required with source ${c.source}` });
    };
    const refuse = (key: "clientSecret" | "clientCertificate" | "federatedTokenFile") => {
      if (c[key] !== undefined) ctx.addIssue({ code: "custom", input: c, path: [key], message: `does not apply to source ${c.source}` });
    };
    if (c.source !== "managedIdentity") {
      require("tenantId");
      require("clientId");
    }
    if (c.source === "clientSecret") require("clientSecret");
    else refuse("clientSecret");
    if (c.source === "clientCertificate") require("clientCertificate");
    else refuse("clientCertificate");
    if (c.source !== "workloadIdentity") refuse("federatedTokenFile");
  }, always);

const resourceGroupName = z.string().regex(/^[\w.()-]{1,90}$/, "must be a resource group name");

/** An AKS cluster entry, known by subscription, resource group and name. */
export const azureClusterSchema = z.strictObject({
  ...clusterBase,
  provider: z.literal(azureProviderName),
  subscriptionId: guid,
  resourceGroup: resourceGroupName,
  name: z.string().regex(/^[A-Za-z0-9][\w-]{0,62}$/, "must be the AKS cluster name"),
  /** The Azure location, such as westeurope; shown by ListClusters. */
  region: z.string().max(64).default(""),
});

/**
 * The most scopes (subscriptions, or subscription and resource group pairs) an
 * Azure account lists: each is listed every poll, and a lookup in an account with
 * resource groups asks each of them.
 */
export const maxAzureScopes = 64;

/**
 * An `accounts` entry of Azure: the AKS clusters of its subscriptions, or, with
 * `resourceGroups`, of those resource groups in each subscription (a resource
 * group absent from a subscription is a failed scope, reported every poll). The
 * `tags` filter matches the clusters' Azure tags.
 */
export const azureAccountSchema = z
  .strictObject({
    ...accountBase,
    provider: z.literal(azureProviderName),
    subscriptions: scopeListSchema(guid, "subscription", maxAzureScopes),
    resourceGroups: scopeListSchema(resourceGroupName, "resource group", maxAzureScopes).optional(),
  })
  .refine(
    (a) => a.subscriptions.length * (a.resourceGroups?.length ?? 1) <= maxAzureScopes,
    `subscriptions × resourceGroups may make at most ${maxAzureScopes} scopes`,
  );

/** An Azure `credentials` entry. */
export type AzureCredentialConfig = z.output<typeof azureCredentialSchema>;
/** A registered AKS cluster. */
export type AzureCluster = z.output<typeof azureClusterSchema>;
/** An Azure `accounts` entry. */
export type AzureAccount = z.output<typeof azureAccountSchema>;

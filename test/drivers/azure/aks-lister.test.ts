import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type AzureAccount, azureAccountSchema } from "../../../src/drivers/azure/azure-config.js";
import { azureProvider } from "../../../src/drivers/azure/azure-provider.js";
import { serviceFailure } from "../../support/service-failure.js";
import { testCaData } from "../../support/test-config.js";
import { subscriptionId } from "./azure-fixture.js";
import { type AksListerEnv, otherSubscriptionId, setUpAksLister } from "./aks-lister-harness.js";

const never = () => new AbortController().signal;
const issues = (input: unknown) => azureAccountSchema.safeParse(input).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
const account = { id: "acme", provider: "azure", credentials: "lister" };

describe("Azure accounts", () => {
  it("name one to 64 subscriptions by GUID, each once, and optionally resource groups, within 64 scopes", () => {
    assert.deepEqual(issues({ ...account, subscriptions: [subscriptionId] }), []);
    assert.deepEqual(issues({ ...account, subscriptions: [subscriptionId], resourceGroups: ["rg-a", "rg-b"] }), []);
    assert.deepEqual(issues({ ...account, subscriptions: [] }), ["subscriptions: must name at least one subscription"]);
    assert.deepEqual(issues({ ...account, subscriptions: ["prod"] }), ["subscriptions.0: must be a GUID"]);
    assert.deepEqual(issues({ ...account, subscriptions: [subscriptionId, subscriptionId.toUpperCase()] }), [
      "subscriptions: must name each subscription once",
    ]);
    assert.deepEqual(issues({ ...account, subscriptions: [subscriptionId], resourceGroups: ["rg/a"] }), [
      "resourceGroups.0: must be a resource group name",
    ]);
    const many = Array.from({ length: 9 }, (_, i) => `rg-${i}`);
    const subscriptions = Array.from({ length: 8 }, (_, i) => `${i}${subscriptionId.slice(1)}`);
    assert.deepEqual(issues({ ...account, subscriptions, resourceGroups: many }), [
      ": subscriptions × resourceGroups may make at most 64 scopes",
    ]);
    assert.deepEqual(issues({ ...account, subscriptions: [subscriptionId], regions: ["westeurope"] }), [': Unrecognized key: "regions"']);
  });

  it("are listed by subscription, or by each subscription and resource group", () => {
    const scopes = (input: object) => azureProvider.discovery!.scopes(azureAccountSchema.parse({ ...account, ...input }));
    assert.deepEqual(scopes({ subscriptions: [subscriptionId, otherSubscriptionId] }), [subscriptionId, otherSubscriptionId]);
    assert.deepEqual(scopes({ subscriptions: [subscriptionId, otherSubscriptionId], resourceGroups: ["rg-a", "rg-b"] }), [
      `${subscriptionId}/rg-a`,
      `${subscriptionId}/rg-b`,
      `${otherSubscriptionId}/rg-a`,
      `${otherSubscriptionId}/rg-b`,
    ]);
  });
});

describe("the AKS lister", () => {
  let env: AksListerEnv;
  let byGroup: AksListerEnv;
  before(async () => {
    [env, byGroup] = await Promise.all([setUpAksLister("subscription"), setUpAksLister("resourceGroup")]);
  });
  after(() => Promise.all([env.close(), byGroup.close()]));
  beforeEach(() => {
    env.fake.reset();
    byGroup.fake.reset();
  });
  const arm = () => env.fixture.azure.arm;
  const put = (path: string, extra: object = {}) =>
    arm().putCluster(path, { server: `https://${path.split("/")[2]}-dns.example.azmk8s.io:443`, caData: testCaData, ...extra });

  it("gives each cluster its subscription as configured, its resource group, location and tags, and its public FQDN as the endpoint", async () => {
    put(`${subscriptionId}/RG-Mixed/public-a`, { location: "northeurope", tags: { env: "prod" } });
    put(`${subscriptionId}/rg-private/private-a`, { private: true });
    const listed = await env.newLister().listScope(env.account, subscriptionId, never());
    const entries = Object.fromEntries(listed.map((c) => [c.name, c.entry]));
    assert.deepEqual(entries["public-a"], {
      subscriptionId,
      resourceGroup: "RG-Mixed",
      name: "public-a",
      region: "northeurope",
      endpoint: "https://public-a-dns.example.azmk8s.io:443",
    });
    // A private cluster's server comes through discovery (listClusterUserCredential), which reaches its private FQDN.
    assert.deepEqual(entries["private-a"], { subscriptionId, resourceGroup: "rg-private", name: "private-a", region: "westeurope" });
    assert.deepEqual(listed.find((c) => c.name === "public-a")?.labels, { env: "prod" });
  });

  it("fails the scope of a resource group that does not exist with NotFound, never as 'no clusters'", async () => {
    const err = await serviceFailure(byGroup.newLister().listScope(byGroup.account, `${subscriptionId}/rg-gone`, never()));
    assert.equal(err.reason, "UPSTREAM_NOT_FOUND");
  });

  it("refuses a nextLink to a page it has read, rather than page forever", async () => {
    const loop = `${arm().url}/subscriptions/${subscriptionId}/providers/Microsoft.ContainerService/managedClusters?api-version=2024-08-01&$skipToken=x`;
    arm().fault = { status: 200, body: JSON.stringify({ value: [], nextLink: loop }), contentType: "application/json" };
    try {
      const before = arm().requests.length;
      const err = await serviceFailure(env.newLister().listScope(env.account, subscriptionId, never()));
      assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
      assert.match(err.message, /malformed/);
      assert.equal(arm().requests.length - before, 2, "the first page and the looping one");
    } finally {
      arm().fault = undefined;
    }
  });

  it("rejects a page with a cluster that lacks its location, has tags that are not strings, or belongs to another subscription", async () => {
    const id = (sub: string) => `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/x`;
    for (const item of [
      { id: id(subscriptionId), name: "x" },
      { id: id(subscriptionId), name: "x", location: "westeurope", tags: { env: 1 } },
      { id: id(otherSubscriptionId), name: "x", location: "westeurope" },
    ]) {
      arm().fault = { status: 200, body: JSON.stringify({ value: [item] }), contentType: "application/json" };
      try {
        const err = await serviceFailure(env.newLister().listScope(env.account, subscriptionId, never()));
        assert.equal(err.reason, "UPSTREAM_BAD_RESPONSE");
      } finally {
        arm().fault = undefined;
      }
    }
  });

  it("looks up a cluster by its id's spelling (lower case, '-' for '_'), and serves no name that two clusters share", async () => {
    put(`${otherSubscriptionId}/rg-x/Team_Cluster`, { location: "eastus" });
    const found = await env.newLister().lookup(env.account, "team-cluster", "eastus", never());
    assert.equal(found?.name, "Team_Cluster");
    assert.equal(await env.newLister().lookup(env.account, "team-cluster", "westeurope", never()), undefined, "another location");
    put(`${subscriptionId}/rg-y/team-cluster`, { location: "eastus" });
    assert.equal(await env.newLister().lookup(env.account, "team-cluster", "eastus", never()), undefined, "an ambiguous id");
  });

  it("looks up with one get per resource group, and rejects when any of them fails: 'not found' needs every answer", async () => {
    const fake = byGroup.fixture.azure.arm;
    fake.putCluster(`${subscriptionId}/rg-two/look-a`, { server: "https://look-a.example:443", caData: testCaData });
    const found = await byGroup.newLister().lookup(byGroup.account, "look-a", "westeurope", never());
    assert.equal(found?.name, "look-a");
    assert.equal(fake.counts.of("managedClusters.get"), 2);
    assert.equal(fake.counts.of("managedClusters.listByResourceGroup"), 0);
    fake.faults.deny(`${subscriptionId}/rg-one`);
    const err = await serviceFailure(byGroup.newLister().lookup(byGroup.account, "look-a", "westeurope", never()));
    assert.equal(err.reason, "UPSTREAM_PERMISSION_DENIED");
    assert.deepEqual(err.metadata, {
      provider: "azure",
      operation: "arm:managedClusters.get",
      account_id: "acme",
      scope: `${subscriptionId}/rg-one`,
    });
  });

  it("asks Entra ID once for ARM's token, whatever the scopes and pages it lists", async () => {
    for (let i = 0; i < 5; i++) put(`${subscriptionId}/rg/c${i}`);
    const lister = env.newLister();
    const entra = env.fixture.azure.entra;
    const before = entra.requests.filter((r) => r.method === "POST").length;
    for (const scope of [subscriptionId, otherSubscriptionId]) await lister.listScope(env.account as AzureAccount, scope, never());
    assert.equal(entra.requests.filter((r) => r.method === "POST").length - before, 1);
    assert.equal(arm().counts.of("managedClusters.list"), 4, "three pages of one subscription, one of the other");
  });
});

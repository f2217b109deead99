/**
 * `npm run build && node dist/bench/policy.js`: the access policy's cost per minting
 * call, in process, as authorizing a call pays it on every GenerateToken (token cache
 * hits included): `mightAllow` before the lookup, then `chooseIdentity` for the
 * cluster. 505 grants: 500 of other principals, and the caller's own five (one gives
 * two identities) placed first ("early") or last ("late"), with the caller naming an
 * identity or none. Prints a Markdown table for docs/benchmarks.md: the median of
 * `BENCH_ROUNDS` (default 5) rounds of 300 ms each, in µs per call.
 */
import { AccessPolicy, type Grant } from "../src/auth/access-policy.js";
import type { IdentityTarget } from "../src/auth/identity-choice.js";

/** How long one round calls for; batches of 1,000 calls until it has passed. */
const roundMs = 300;
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const entry = { provider: "aws" };
const credentials = { "eks-own": entry, "eks-ro": entry, "eks-deploy": entry, "gke-ro": { provider: "gcp" } };
const others: Grant[] = Array.from({ length: 500 }, (_, i) => ({
  principals: [`spiffe://corp/ns/team-${i}/*`],
  clusters: [`team-${i}-*`],
  rpcs: ["GenerateToken", "GetKubeconfig"],
  identities: ["eks-ro"],
}));
const callers: Grant[] = [
  { principals: ["key:ci"], clusters: ["prod-*"], rpcs: ["GenerateToken"], identities: ["eks-ro", "eks-deploy"] },
  { principals: ["key:ci"], clusters: ["staging-*"], rpcs: ["GenerateToken"] },
  { principals: ["key:ci"], clusterLabels: { env: "dev" }, rpcs: ["GenerateToken"], identities: ["eks-deploy"] },
  { principals: ["key:ci"], clusters: ["*-gke"], rpcs: ["GenerateToken"], identities: ["gke-ro"] },
  { principals: ["key:ci"], rpcs: ["ListClusters"] },
];
const cluster: IdentityTarget = { id: "prod-eks", labels: { env: "prod" }, provider: "aws", credentials: "eks-own" };

function perCall(policy: AccessPolicy, requested: string): number {
  let [sink, calls, elapsed] = [0, 0, 0];
  const started = performance.now();
  while (elapsed < roundMs) {
    for (let i = 0; i < 1_000; i++) {
      if (policy.mightAllow("key:ci", "GenerateToken", cluster.id, requested)) sink++;
      if (policy.chooseIdentity("key:ci", "GenerateToken", cluster, requested).kind === "chosen") sink++;
    }
    calls += 1_000;
    elapsed = performance.now() - started;
  }
  // Read, so that the calls are not optimized away.
  if (sink === -1) console.log(sink);
  return (elapsed * 1000) / calls;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

console.log("| access policy, 505 grants | µs per minting call (median of rounds) |\n|---|---|");
for (const [place, grants] of [
  ["early", [...callers, ...others]],
  ["late", [...others, ...callers]],
] as const) {
  const policy = AccessPolicy.fromGrants(grants, credentials);
  for (const requested of ["eks-deploy", ""]) {
    // The first round warms the JIT and is not counted.
    perCall(policy, requested);
    const us = median(Array.from({ length: rounds }, () => perCall(policy, requested)));
    const what = requested === "" ? "names none (IDENTITY_REQUIRED)" : "names one";
    console.log(`| caller's grants ${place}, ${what} | ${us.toFixed(2)} |`);
  }
}

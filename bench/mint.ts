import { mintEksToken } from "../src/drivers/aws/eks-token.js";
import { benchAwsKeys } from "./server-process.js";

/** The in-process cost of presigning one EKS token. */
export async function benchMint(n = 20_000): Promise<string> {
  const input = () => ({ credentials: benchAwsKeys, region: "us-west-2", clusterName: "demo", now: new Date() });
  for (let i = 0; i < 2000; i++) await mintEksToken(input());
  const started = performance.now();
  for (let i = 0; i < n; i++) await mintEksToken(input());
  const ms = performance.now() - started;
  return `| mintEksToken | ${Math.round(n / (ms / 1000)).toLocaleString("en-US")} tokens/s | ${((ms * 1000) / n).toFixed(1)} µs per token |`;
}

/**
 * DNS suffixes of the AWS partitions other than the commercial one, by region
 * prefix. The EKS authenticator only accepts presigned URLs for the STS host of
 * the cluster's own partition.
 */
const partitionDnsSuffixes: ReadonlyArray<readonly [regionPrefix: string, dnsSuffix: string]> = [
  ["cn-", "amazonaws.com.cn"],
  ["us-isob-", "sc2s.sgov.gov"],
  ["us-iso-", "c2s.ic.gov"],
  ["us-isof-", "csp.hci.ic.gov"],
  ["eu-isoe-", "cloud.adc-e.uk"],
];

/** The DNS suffix of the partition `region` belongs to, e.g. `amazonaws.com.cn` for `cn-north-1`. */
export function partitionDnsSuffix(region: string): string {
  return partitionDnsSuffixes.find(([prefix]) => region.startsWith(prefix))?.[1] ?? "amazonaws.com";
}

/**
 * The regional STS host, `sts.<region>.<partition suffix>`. EKS tokens are always
 * signed for the regional endpoint, as `aws eks get-token` does, never the global
 * `sts.amazonaws.com`.
 */
export function stsHostForRegion(region: string): string {
  return `sts.${region}.${partitionDnsSuffix(region)}`;
}

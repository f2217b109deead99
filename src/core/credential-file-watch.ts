import { FileChangePoll } from "../common/file-change-poll.js";
import type { ServiceConfig } from "../config/config-schema.js";
import { secretFilesIn } from "../config/secret-ref.js";

/**
 * How often the secret files that credentials read are checked for a change. A key
 * rewritten in place is noticed within this time, after which no token signed with
 * the old key is handed out again; five seconds is also how long a read of such a
 * file is reused (`secretFileFreshMs`).
 */
export const credentialFilePollMs = 5_000;

/** Which clusters' credentials read each secret file, by file. */
export function clustersBySecretFile({ credentials, clusters }: Pick<ServiceConfig, "credentials" | "clusters">): Map<string, Set<string>> {
  const filesOf = new Map(Object.entries(credentials).map(([name, entry]) => [name, secretFilesIn(entry)]));
  const byFile = new Map<string, Set<string>>();
  for (const cluster of clusters) {
    for (const file of filesOf.get(cluster.credentials) ?? []) {
      const ids = byFile.get(file) ?? new Set<string>();
      ids.add(cluster.id);
      byFile.set(file, ids);
    }
  }
  return byFile;
}

/**
 * Watches every secret file the config's credentials read (bounded: see
 * {@link FileChangePoll}) and tells `onRotated` which file changed and which
 * clusters' credentials read it, so that their cached tokens can be dropped.
 * `onRotated` must not throw.
 */
export function watchCredentialFiles(
  config: Pick<ServiceConfig, "credentials" | "clusters">,
  onRotated: (file: string, clusterIds: ReadonlySet<string>) => void,
  intervalMs = credentialFilePollMs,
): FileChangePoll {
  const byFile = clustersBySecretFile(config);
  return new FileChangePoll({
    files: [...byFile.keys()],
    intervalMs,
    onChange: (file) => onRotated(file, byFile.get(file) ?? new Set()),
  });
}

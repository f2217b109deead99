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

/** Which `credentials` entries read each secret file, by file. */
export function credentialsBySecretFile({ credentials }: Pick<ServiceConfig, "credentials">): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>();
  for (const [name, entry] of Object.entries(credentials)) {
    for (const file of secretFilesIn(entry)) {
      const names = byFile.get(file) ?? new Set<string>();
      names.add(name);
      byFile.set(file, names);
    }
  }
  return byFile;
}

/**
 * Watches every secret file the config's credentials read (bounded: see
 * {@link FileChangePoll}) and tells `onRotated` which file changed and which
 * `credentials` entries read it, so that the cached tokens of every cluster minted
 * with them, configured or discovered, can be dropped. `onRotated` must not throw.
 */
export function watchCredentialFiles(
  config: Pick<ServiceConfig, "credentials">,
  onRotated: (file: string, credentials: ReadonlySet<string>) => void,
  intervalMs = credentialFilePollMs,
): FileChangePoll {
  const byFile = credentialsBySecretFile(config);
  return new FileChangePoll({
    files: [...byFile.keys()],
    intervalMs,
    onChange: (file) => onRotated(file, byFile.get(file) ?? new Set()),
  });
}

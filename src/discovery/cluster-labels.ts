/** The most labels a discovered cluster keeps: the first ones by key, in code-unit order. */
export const maxDiscoveredLabels = 64;

/** The longest label value kept; a longer tag is dropped, never cut, so that it cannot come to equal another value. */
export const maxLabelValueLength = 255;

/** A label key as the `labels` of a clusters entry allow it: 1 to 63 of `[A-Za-z0-9_./-]`. */
const labelKeyPattern = /^[\w./-]{1,63}$/;

/**
 * Characters no label may hold: control characters, format characters (zero-width
 * and bidirectional overrides, which make a value read as another) and line
 * separators. A tag that holds one is dropped whole rather than cleaned, so that a
 * cleaned value never equals one a grant names.
 */
const unprintable = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** A discovered cluster's labels, and how many of its tags were left out. */
export interface SanitizedLabels {
  readonly labels: Readonly<Record<string, string>>;
  readonly dropped: number;
}

/**
 * A cloud's tags (labels on some clouds) as a discovered cluster's labels, which
 * ListClusters shows and label grants match: a tag is kept only when its key is a
 * label key (1–63 of `[A-Za-z0-9_./-]`, the rule of configured labels; system tags
 * such as `aws:…` are not), its value is at most 255 characters, and neither holds
 * an unprintable character; at most 64 are kept, the first by key. Nothing is ever
 * cut or rewritten.
 */
export function sanitizeLabels(tags: Readonly<Record<string, string>>): SanitizedLabels {
  const keys = Object.keys(tags).sort();
  const kept: [string, string][] = [];
  for (const key of keys) {
    const value = tags[key];
    if (typeof value !== "string" || !labelKeyPattern.test(key)) continue;
    if (value.length > maxLabelValueLength || unprintable.test(value)) continue;
    if (kept.length === maxDiscoveredLabels) break;
    kept.push([key, value]);
  }
  // Built by fromEntries, so that a key such as "__proto__" is an own property like any other.
  return { labels: Object.fromEntries(kept), dropped: keys.length - kept.length };
}

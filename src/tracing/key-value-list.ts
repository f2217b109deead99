/** An HTTP field name (RFC 9110 `token`). */
const fieldName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** The longest resource attribute key or value the SDK's environment detector accepts. */
const maxAttributeLength = 255;

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with a list of `key=value` pairs separated by commas, the format of
 * `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` (values percent-encoded),
 * or undefined when nothing is. The SDK skips an entry it cannot parse (headers) or
 * drops the whole list (attributes) without a word; this says which entry, by its
 * position only, since header values are collectors' API keys.
 *
 * - `header`: the key is an HTTP field name and the value is not empty; the value
 *   ends at its first unencoded `;` (W3C baggage's property separator, which the
 *   SDK's parser follows), so a `;` must be written `%3B`.
 * - `attribute`: exactly one `=`, a key, and at most 255 characters each.
 */
export function keyValueListProblem(list: string | undefined, kind: "header" | "attribute"): string | undefined {
  if (list === undefined) return undefined;
  const entries = list.split(",");
  for (const [index, raw] of entries.entries()) {
    const entry = raw.trim();
    if (entry === "") continue;
    const at = `entry ${index + 1} of ${entries.length}`;
    const separator = entry.indexOf("=");
    const key = entry.slice(0, Math.max(0, separator)).trim();
    const value = entry.slice(separator + 1).trim();
    if (separator <= 0 || key === "") return `${at} is not key=value`;
    if (!decodes(key) || !decodes(value)) return `${at} has a broken percent-encoding`;
    if (kind === "header") {
      if (!fieldName.test(decodeURIComponent(key))) return `${at} has a key that is not an HTTP header name`;
      if (value === "") return `${at} has an empty value`;
      if (value.includes(";")) return `${at} has a ';' in its value: write it %3B`;
    } else {
      if (value.includes("=")) return `${at} has a second '=': write it %3D`;
      if (decodeURIComponent(key).length > maxAttributeLength || decodeURIComponent(value).length > maxAttributeLength)
        return `${at} is longer than ${maxAttributeLength} characters`;
    }
  }
  return undefined;
}

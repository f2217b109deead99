import { ServiceError } from "../errors/service-error.js";

/** The longest filter accepted. */
export const maxFilterLength = 1024;

/** What a filter compares: the cluster's provider, region, and labels. */
export interface FilterTarget {
  readonly provider: string;
  readonly region: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One `field = value` comparison. */
interface Comparison {
  readonly field: "provider" | "region" | { readonly label: string };
  readonly value: string;
}

/** A parsed ListClusters filter. */
export interface ClusterFilter {
  /** Whether `cluster` satisfies every comparison. */
  matches(cluster: FilterTarget): boolean;
  /** The same filter written one way (comparisons sorted), so that equivalent filters share page tokens; "" matches all. */
  readonly canonical: string;
}

const everything: ClusterFilter = { matches: () => true, canonical: "" };

function invalid(message: string): ServiceError {
  return new ServiceError({ reason: "INVALID_FILTER", message: `filter ${message}`, metadata: { field: "filter" } });
}

/** The next token of `text` from `at`: a quoted string, `=`, another operator, a word, or a parenthesis. */
const tokenPattern = /\s*(?:"((?:[^"\\]|\\.)*)"|(=)|(!=|<=|>=|<|>|:)|([A-Za-z0-9_./@+-]+)|(\S))/y;

type Token =
  | { kind: "string" | "word"; text: string; at: number }
  | { kind: "equals"; at: number }
  | { kind: "other"; text: string; at: number };

function tokens(text: string): Token[] {
  const result: Token[] = [];
  tokenPattern.lastIndex = 0;
  for (;;) {
    if (/^\s*$/.test(text.slice(tokenPattern.lastIndex))) return result;
    const m = tokenPattern.exec(text);
    if (!m) throw invalid("cannot be read");
    const at = m.index + m[0].length - m[0].trimStart().length;
    const [, quoted, equals, operator, word, other] = m;
    if (quoted !== undefined) result.push({ kind: "string", text: quoted.replace(/\\(.)/g, "$1"), at });
    else if (equals !== undefined) result.push({ kind: "equals", at });
    else if (word !== undefined) result.push({ kind: "word", text: word, at });
    else result.push({ kind: "other", text: operator ?? other ?? "", at });
  }
}

function field(token: Token | undefined): Comparison["field"] {
  if (token?.kind !== "word") throw invalid(`must start each comparison with a field (provider, region or labels.KEY)${where(token)}`);
  if (token.text === "provider" || token.text === "region") return token.text;
  if (token.text.startsWith("labels.") && /^[\w./-]{1,63}$/.test(token.text.slice(7))) return { label: token.text.slice(7) };
  if (token.text === "OR" || token.text === "NOT") throw invalid(`uses ${token.text}, which is not supported; join comparisons with AND`);
  throw invalid(`cannot filter on "${shown(token.text)}"; the fields are provider, region and labels.KEY`);
}

function where(token: Token | undefined): string {
  return token === undefined ? " (it ends too soon)" : ` at position ${token.at + 1}`;
}

function shown(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/**
 * Parses a ListClusters `filter`, a subset of AIP-160: comparisons `provider =
 * VALUE`, `region = VALUE` and `labels.KEY = VALUE` (VALUE quoted, or a bare word),
 * joined by `AND`. Anything else (OR, NOT, parentheses, another field or operator)
 * is INVALID_ARGUMENT `INVALID_FILTER` saying what is wrong.
 */
export function parseClusterFilter(text: string): ClusterFilter {
  if (text.length > maxFilterLength) throw invalid(`is ${text.length} characters long; the maximum is ${maxFilterLength}`);
  const list = tokens(text);
  if (list.length === 0) return everything;
  const comparisons: Comparison[] = [];
  for (let i = 0; ; i += 4) {
    const name = field(list[i]);
    const op = list[i + 1];
    if (op?.kind !== "equals") {
      const what = op?.kind === "other" || op?.kind === "word" ? `operator "${shown(op.text)}" is not supported` : "expects =";
      throw invalid(`${what}${where(op)}; compare with =`);
    }
    const value = list[i + 2];
    if (value?.kind !== "string" && value?.kind !== "word") throw invalid(`expects a value${where(value)}`);
    comparisons.push({ field: name, value: value.text });
    const join = list[i + 3];
    if (join === undefined) break;
    if (join.kind !== "word" || join.text !== "AND") {
      const text = join.kind === "equals" ? "=" : join.text;
      throw invalid(`uses "${shown(text)}"${where(join)}; join comparisons with AND`);
    }
  }
  const canonical = comparisons
    .map(({ field: f, value }) => `${typeof f === "string" ? f : `labels.${f.label}`}=${JSON.stringify(value)}`)
    .sort()
    .join(" AND ");
  return {
    canonical,
    matches: (cluster) =>
      comparisons.every(({ field: f, value }) => {
        if (f === "provider") return cluster.provider === value;
        if (f === "region") return cluster.region === value;
        return Object.hasOwn(cluster.labels, f.label) && cluster.labels[f.label] === value;
      }),
  };
}

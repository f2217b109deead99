/** What an `idTemplate` is made from: the placeholders it may use, each at most once. */
export const idPlaceholders = ["name", "region", "account"] as const;
/** One placeholder of an id template. */
export type IdPlaceholder = (typeof idPlaceholders)[number];

/** The id template of an account that sets none: the cluster's name, region and account, dot-separated. */
export const defaultIdTemplate = "{name}.{region}.{account}";

/** A literal run or a placeholder of a template. */
export type Piece = { readonly literal: string } | { readonly placeholder: IdPlaceholder };

/** The pieces of `template`, or what is wrong with it. */
export function pieces(template: string): Piece[] | string {
  const result: Piece[] = [];
  const used = new Set<string>();
  const pattern = /\{([^{}]*)\}|([^{}]+)|([{}])/g;
  for (const [, name, literal, brace] of template.matchAll(pattern)) {
    if (brace !== undefined) return `has an unmatched "${brace}"`;
    if (literal !== undefined) {
      if (!/^[a-z0-9.-]+$/.test(literal)) return 'may hold only lower-case letters, digits, "-" and "." besides its placeholders';
      result.push({ literal });
      continue;
    }
    if (!(idPlaceholders as readonly string[]).includes(name ?? "")) {
      return `uses {${name}}; the placeholders are ${idPlaceholders.map((p) => `{${p}}`).join(", ")}`;
    }
    if (used.has(name ?? "")) return `uses {${name}} twice`;
    if (result.at(-1) !== undefined && "placeholder" in (result.at(-1) as Piece)) {
      return "must separate its placeholders by at least one character, so that an id can be read back";
    }
    used.add(name ?? "");
    result.push({ placeholder: name as IdPlaceholder });
  }
  if (!used.has("name")) return "must contain {name}";
  return result;
}

/** Says what is wrong with an account's `idTemplate`, or returns undefined when it is usable. */
export function idTemplateProblem(template: string): string | undefined {
  const parsed = pieces(template);
  return typeof parsed === "string" ? parsed : undefined;
}

import { idSpelling } from "../drivers/listing-parts.js";
import { type IdPlaceholder, type Piece, pieces } from "./id-template-rules.js";

/** The template rules the config checks, beside the template they check. */
export { defaultIdTemplate, idTemplateProblem } from "./id-template-rules.js";

/** A cluster's name and region as read back from an id. */
export interface ParsedId {
  readonly name: string;
  readonly region: string;
}

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/**
 * An account's id template, compiled: it renders a discovered cluster's id, and
 * reads an id back into the name and region it was made from, so that a cluster
 * created a moment ago can be looked up by the id a caller asks for.
 */
export class IdTemplate {
  private readonly pieces: readonly Piece[];
  private readonly account: string;
  private readonly parser: RegExp | undefined;
  /** The parser's groups: which placeholder each captures, in order. */
  private readonly groups: readonly IdPlaceholder[];
  private readonly regionOf: ReadonlyMap<string, string> | undefined;

  /**
   * `regions` are the regions the account's clusters can be in, as the cloud spells
   * them, when the config names them; an id is then read back only with one of
   * them, spelled as the cloud does. Undefined: any region-shaped part is read back.
   *
   * @throws Error for a template that {@link idTemplateProblem} refuses (the config
   *   validated it).
   */
  constructor(template: string, account: string, regions?: readonly string[]) {
    const parsed = pieces(template);
    if (typeof parsed === "string") throw new Error(`@private idTemplate ${parsed}`);
    this.pieces = parsed;
    this.account = idSpelling(account);
    this.regionOf = regions && new Map(regions.map((region) => [idSpelling(region), region]));
    this.groups = parsed.flatMap((piece) => ("placeholder" in piece && piece.placeholder !== "account" ? [piece.placeholder] : []));
    if (!parsed.some((piece) => "placeholder" in piece && piece.placeholder === "region")) return;
    const regionPattern = this.regionOf
      ? `(${[...this.regionOf.keys()]
          .sort((a, b) => b.length - a.length)
          .map(literal)
          .join("|")})`
      : "([a-z0-9]+(?:-[a-z0-9]+)*)";
    const source = parsed
      .map((piece) => {
        if ("literal" in piece) return literal(piece.literal);
        if (piece.placeholder === "account") return literal(this.account);
        return piece.placeholder === "name" ? "([a-z0-9](?:[a-z0-9.-]*?[a-z0-9])??)" : regionPattern;
      })
      .join("");
    this.parser = this.regionOf?.size === 0 ? undefined : new RegExp(`^${source}$`);
  }

  /** The id of a cluster named `name` in `region` (not yet checked against the id rules). */
  render(name: string, region: string): string {
    const values: Record<IdPlaceholder, string> = { name: idSpelling(name), region: idSpelling(region), account: this.account };
    return this.pieces.map((piece) => ("literal" in piece ? piece.literal : values[piece.placeholder])).join("");
  }

  /**
   * The name and region `id` was made from, when it has this template's shape (and
   * one of the account's regions): the region as the cloud spells it, the name as
   * the id has it. Undefined otherwise, and always for a template without
   * `{region}`, whose ids cannot say where to look.
   */
  parse(id: string): ParsedId | undefined {
    const match = this.parser?.exec(id);
    if (!match) return undefined;
    const name = match[this.groups.indexOf("name") + 1] ?? "";
    const region = match[this.groups.indexOf("region") + 1] ?? "";
    return { name, region: this.regionOf?.get(region) ?? region };
  }
}

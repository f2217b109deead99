/** Where a fake's paged listing goes on: its scope, the page number (from 1) and the item the page starts after. */
export interface PagePosition {
  readonly scope: string;
  readonly page: number;
  readonly after: string;
}

/** An opaque page token, as clouds hand out: base64url JSON of the position. */
export function pageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

/** The position a token names, or undefined for a token the fake never handed out. */
export function readPageToken(token: string): PagePosition | undefined {
  try {
    const { scope, page, after } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<PagePosition>;
    const valid = typeof scope === "string" && typeof after === "string" && Number.isInteger(page) && (page ?? 0) >= 2;
    return valid ? { scope, page: page!, after } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One page of `sorted` names for a request that carries `token` (page 1 without),
 * at most `size` long, and the token of the next page, if any. Pages follow the
 * names, not offsets, so clusters added or removed between pages neither repeat
 * nor hide the others.
 */
export function pageOf(
  sorted: readonly string[],
  scope: string,
  position: PagePosition | undefined,
  size: number,
): { page: number; names: string[]; next: string | undefined } {
  const page = position?.page ?? 1;
  const start = position ? sorted.findIndex((name) => name > position.after) : 0;
  const names = start < 0 ? [] : sorted.slice(start, start + size);
  const more = start >= 0 && start + size < sorted.length;
  return { page, names, next: more ? pageToken({ scope, page: page + 1, after: names.at(-1)! }) : undefined };
}

import type { FakeReply } from "./fake-http-server.js";
import { pageOf, readPageToken } from "./fake-page-token.js";

/** An EKS cluster as the fake Tagging API sees it. */
export interface TaggedResource {
  readonly tags: Readonly<Record<string, string>>;
  /** Whether it ever had a tag: GetResources reports such clusters even with no tag left, and never the others. */
  readonly everTagged: boolean;
}

/** What the fake Tagging API answers from: one region's clusters and how the test bends the answer. */
export interface TaggingState {
  readonly region: string;
  readonly account: string;
  readonly clusters: ReadonlyMap<string, TaggedResource>;
  readonly pageSize: number;
  /** Leaves ResourceTagMappingList out of every page. */
  readonly partial: boolean;
  /** A reply instead of the page of this number, if any. */
  pageFault(page: number): FakeReply | undefined;
}

/** An error of the AWS JSON 1.1 protocol: HTTP 400 (or `status`) and `__type`, as the Tagging API sends them. */
export function awsJsonError(type: string, message: string, status = 400): FakeReply {
  return {
    status,
    headers: { "content-type": "application/x-amz-json-1.1" },
    body: JSON.stringify({ __type: `com.amazonaws.resourcegroupstaggingapi#${type}`, Message: message }),
  };
}

interface TagFilter {
  Key?: unknown;
  Values?: unknown;
}

/** The reason a GetResources request is invalid, as the API's InvalidParameterException would say, or undefined. */
function invalidRequest(body: Record<string, unknown>): string | undefined {
  const { ResourceTypeFilters: types, ResourcesPerPage: perPage, TagFilters: filters } = body;
  if (JSON.stringify(types) !== JSON.stringify(["eks:cluster"])) return "the fake serves ResourceTypeFilters [eks:cluster] only";
  if (perPage !== undefined && !(Number.isInteger(perPage) && (perPage as number) >= 1 && (perPage as number) <= 100))
    return "ResourcesPerPage must be 1 to 100";
  if (filters === undefined) return undefined;
  if (!Array.isArray(filters) || filters.length > 50) return "TagFilters must be a list of at most 50";
  const valid = (filter: TagFilter) =>
    typeof filter?.Key === "string" &&
    filter.Key.length >= 1 &&
    (filter.Values === undefined ||
      (Array.isArray(filter.Values) && filter.Values.length <= 20 && filter.Values.every((v) => typeof v === "string")));
  return (filters as TagFilter[]).every(valid) ? undefined : "each TagFilter needs a Key and at most 20 string Values";
}

/** Whether `tags` pass every filter: AWS ANDs filters and ORs the values of one; a filter without values asks for the key. */
function passes(tags: Readonly<Record<string, string>>, filters: TagFilter[]): boolean {
  return filters.every(({ Key, Values }) => {
    if (!Object.hasOwn(tags, Key as string)) return false;
    const values = (Values as string[] | undefined) ?? [];
    return values.length === 0 || values.includes(tags[Key as string]!);
  });
}

/**
 * GetResources for `eks:cluster` in one region, with AWS's rules: only clusters that
 * are or were ever tagged, tag filters, pages of `ResourcesPerPage` (at most the
 * fake's page size) and a `PaginationToken` that is "" on the last page.
 */
export function getResources(state: TaggingState, requestBody: Buffer): FakeReply {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(requestBody.toString("utf8")) as Record<string, unknown>;
  } catch {
    return awsJsonError("SerializationException", "the body is not JSON");
  }
  const invalid = invalidRequest(body);
  if (invalid) return awsJsonError("InvalidParameterException", invalid);
  const token = body.PaginationToken;
  const position = typeof token === "string" && token !== "" ? readPageToken(token) : undefined;
  if ((typeof token === "string" && token !== "" && position?.scope !== state.region) || (token !== undefined && typeof token !== "string"))
    return awsJsonError("PaginationTokenExpiredException", "the pagination token is not valid");
  const filters = (body.TagFilters as TagFilter[] | undefined) ?? [];
  const reported = [...state.clusters]
    .filter(([, resource]) => resource.everTagged && passes(resource.tags, filters))
    .map(([name]) => name)
    .sort();
  const size = Math.min((body.ResourcesPerPage as number | undefined) ?? 50, state.pageSize);
  const { page, names, next } = pageOf(reported, state.region, position, size);
  const fault = state.pageFault(page);
  if (fault) return fault;
  const mappings = names.map((name) => ({
    ResourceARN: `arn:aws:eks:${state.region}:${state.account}:cluster/${name}`,
    Tags: Object.entries(state.clusters.get(name)!.tags).map(([Key, Value]) => ({ Key, Value })),
  }));
  return {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.1" },
    body: JSON.stringify({ PaginationToken: next ?? "", ...(state.partial ? {} : { ResourceTagMappingList: mappings }) }),
  };
}

import type { z } from "zod";

/** The parts of a zod schema's definition that say what it holds; every other kind holds no keys. */
interface Definition {
  readonly type: string;
  /** `object`: its keys. */
  readonly shape?: Readonly<Record<string, z.core.$ZodType>>;
  /** `array`: its items. */
  readonly element?: z.core.$ZodType;
  /** `record`: its values. */
  readonly valueType?: z.core.$ZodType;
  /** `union` (discriminated or not): its options. */
  readonly options?: readonly z.core.$ZodType[];
  /** A discriminated union's key. */
  readonly discriminator?: string;
  /** `optional`, `default`, `prefault`, `nullable`, `readonly`, `catch`, `nonoptional`: what they wrap. */
  readonly innerType?: z.core.$ZodType;
  /** `pipe` (a transform): what it reads. */
  readonly in?: z.core.$ZodType;
}

function definition(schema: z.core.$ZodType): Definition {
  return schema._zod.def as unknown as Definition;
}

/** What a wrapper (a default, an optional, a transform) wraps; undefined for anything else. */
function wrapped(schema: z.core.$ZodType): z.core.$ZodType | undefined {
  const def = definition(schema);
  return def.innerType ?? def.in;
}

/** The schema under its wrappers (defaults, optionals, transforms). */
function unwrapped(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let inner = wrapped(current); inner !== undefined; inner = wrapped(current)) current = inner;
  return current;
}

/** The schemas a value at `key` of a value of `schema` is validated by: one, or one per union option that has the key. */
function childSchemas(schema: z.core.$ZodType, key: PropertyKey): z.core.$ZodType[] {
  const def = definition(unwrapped(schema));
  if (def.type === "object") {
    const child = typeof key === "string" ? def.shape?.[key] : undefined;
    return child ? [child] : [];
  }
  if (def.type === "array" && typeof key === "number" && def.element) return [def.element];
  if (def.type === "record" && def.valueType) return [def.valueType];
  if (def.type === "union") return (def.options ?? []).flatMap((option) => childSchemas(option, key));
  return [];
}

/**
 * The options of a discriminated union that `value` selects by its discriminator:
 * all of them when it names none they know (or the union has no discriminator).
 */
function selected(def: Definition, value: unknown): readonly z.core.$ZodType[] {
  const options = def.options ?? [];
  const key = def.discriminator;
  const named = key !== undefined && typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  if (key === undefined || named === undefined) return options;
  const matching = options.filter((option) => (option._zod.propValues?.[key] as Set<unknown> | undefined)?.has(named));
  return matching.length > 0 ? matching : options;
}

/**
 * The shapes of the object schemas at `path` of a value of `schema`: one for an
 * object schema there, one per option of a union there that `value` (the object,
 * when known) selects by its discriminator, all of them when it selects none.
 */
function shapesAt(schema: z.core.$ZodType, path: readonly PropertyKey[], value?: unknown): Readonly<Record<string, z.core.$ZodType>>[] {
  let schemas = [schema];
  for (const key of path) schemas = schemas.flatMap((s) => childSchemas(s, key));
  const shapes: Readonly<Record<string, z.core.$ZodType>>[] = [];
  const collect = (s: z.core.$ZodType): void => {
    const def = definition(unwrapped(s));
    if (def.type === "object") shapes.push(def.shape ?? {});
    else if (def.type === "union") for (const option of selected(def, value)) collect(option);
  };
  for (const s of schemas) collect(s);
  return shapes;
}

/**
 * Every key an object at `path` of a value of `schema` may have: the keys of the
 * object schema there, or of the options of a union there, only those `value` (the
 * object, when known) selects by its discriminator: an `aws` cluster entry's keys
 * are those of the aws cluster schema, an entry with no valid `provider` those of
 * every provider. Used to name the key a misspelled one was meant to be; empty
 * where the path holds no object.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[], value?: unknown): Set<string> {
  return new Set(shapesAt(schema, path, value).flatMap((shape) => Object.keys(shape)));
}

/**
 * The keys that every option of the union at `path` validates with one and the same
 * schema, such as a `clusters[]` entry's `id` and `credentials` (every provider's
 * cluster schema spreads `clusterBase`): they can be checked in an entry whose
 * provider is missing or unknown, so that its other problems are reported in the same
 * run rather than after the provider is fixed.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function sharedKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): Map<string, z.core.$ZodType> {
  const [first, ...others] = shapesAt(schema, path);
  const shared = new Map<string, z.core.$ZodType>();
  for (const [key, keySchema] of Object.entries(first ?? {})) {
    if (others.every((shape) => shape[key] === keySchema)) shared.set(key, keySchema);
  }
  return shared;
}

/** Any method: every method's `this` and arguments accept `never`. */
type Method = (this: never, ...args: never[]) => unknown;

const patched = new WeakMap<object, Set<string>>();

/**
 * Replaces `prototype[name]`, a method of grpc-js, with `wrap(original)`, once per
 * process: later calls for the same method do nothing. grpc-js has no public hooks
 * where the service needs them (see the callers), so each patch wraps its own
 * step, and throws at start-up, naming `file`, if a grpc-js upgrade has removed the
 * method, rather than silently losing what the patch enforces.
 */
export function patchGrpcJs<M extends Method>(
  prototype: object,
  owner: string,
  name: string,
  file: string,
  wrap: (original: M) => M,
): void {
  const names = patched.get(prototype) ?? new Set<string>();
  if (names.has(name)) return;
  const methods = prototype as Record<string, M | undefined>;
  const original = methods[name];
  if (typeof original !== "function") throw new Error(`@private grpc-js no longer has ${owner}.${name}; revisit ${file}`);
  methods[name] = wrap(original);
  names.add(name);
  patched.set(prototype, names);
}

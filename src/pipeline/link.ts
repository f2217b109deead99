import type { Outcome } from "../core/call-context.js";
import type { Established, Invocation, InvocationWith } from "./invocation.js";

/** The rest of the pipeline, from a link's point of view: it always answers with a promise. */
export type Step = (invocation: Invocation) => Promise<Outcome<unknown>>;

/**
 * A cross-cutting concern, connect-es style: given the next step it returns its own.
 * The contract, which {@link compose} enforces:
 *
 * - a step always returns a promise: a failure is a rejection, never a throw (a
 *   synchronous throw is turned into one at composition, so a slip costs nothing);
 * - a link that relies on something another link establishes (rate limiting on the
 *   principal that authentication sets) says so in `requires`, and composition
 *   refuses an order in which no link outside it `establishes` it;
 * - a link classifies a failure it reports with `classifyFailure` and never builds a
 *   status name itself.
 */
export interface Link {
  /** For composition errors. */
  readonly name: string;
  /** What links outside this one must have established before its step runs. */
  readonly requires: readonly Established[];
  /** What this link has established whenever it calls the next step. */
  readonly establishes: readonly Established[];
  readonly wrap: (next: Step) => Step;
}

/** The last step, after every link: it too may require what links establish. */
export interface Terminal<R extends Established = never> {
  readonly requires: readonly R[];
  readonly step: (invocation: InvocationWith<R>) => Promise<Outcome<unknown>>;
}

/**
 * Declares a link. Its step is typed with what it requires as set: composition
 * checks that a link outside it establishes that, so the link reads
 * `invocation.principal` without a branch for a case that cannot happen.
 */
export function defineLink<R extends Established = never>(link: {
  name: string;
  requires?: readonly R[];
  establishes?: readonly Established[];
  wrap: (next: Step) => (invocation: InvocationWith<R>) => Promise<Outcome<unknown>>;
}): Link {
  return { name: link.name, requires: link.requires ?? [], establishes: link.establishes ?? [], wrap: link.wrap as Link["wrap"] };
}

/**
 * Chains `links` (outermost first) in front of `terminal`, enforcing the link
 * contract. @throws at composition when a link or the terminal requires what no
 * link outside it establishes.
 */
export function compose<R extends Established>(links: readonly Link[], terminal: Terminal<R>): Step {
  const established = new Set<Established>();
  for (const link of links) {
    requireEstablished(link.name, link.requires, established);
    for (const fact of link.establishes) established.add(fact);
  }
  requireEstablished("the handler", terminal.requires, established);
  return links.reduceRight<Step>((next, link) => alwaysAPromise(link.wrap(next)), alwaysAPromise(terminal.step as Step));
}

function requireEstablished(name: string, requires: readonly Established[], established: ReadonlySet<Established>): void {
  for (const fact of requires) {
    if (!established.has(fact)) throw new Error(`@private pipeline: ${name} requires the ${fact}, which no link before it establishes`);
  }
}

/** `step`, with a synchronous throw turned into a rejection. */
function alwaysAPromise(step: Step): Step {
  return (invocation) => {
    try {
      return step(invocation);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/**
 * A fake cloud's judgement of a signed request or a presented token, as the real
 * cloud would reach it: accepted, with the cloud identity it authenticated (an
 * access key id, a service account, an application or managed identity), or
 * refused, with the reason the cloud would give.
 */
export type Verdict = { ok: true; identity: string } | { ok: false; reason: string };

/**
 * Strict options at the public boundary: every options object (layers, optimizers, schedules,
 * compile, fit, callbacks, data helpers, save/load) is checked against the keys its function
 * takes before anything is built. An unknown key is an error with a "did you mean" suggestion (a
 * misspelling, Keras' snake_case, a different case), and a value of the wrong type is an error
 * naming the option and what it got — where JavaScript would otherwise quietly read
 * `returnSequences: 'false'` as true or ignore `learning_rate`. Name lookups (initializers,
 * activations, losses, classes) go through `ownLookup`, so `'constructor'` or `'toString'` are
 * unknown names, not Object.prototype's functions.
 */

/** Checks one value: returns what is wrong with it ("must be …"), or null when it is fine. */
export type Check = (value: unknown) => string | null;

/** The options a function takes: name → check (undefined values always pass: defaults apply). */
export type OptionSpec = Readonly<Record<string, Check>>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${short(v)})`;
  if (typeof v === 'string') return `the string ${short(v)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return `an object (${short(v)})`;
  return `${typeof v} ${String(v)}`;
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const isPlainNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks for the common option types; each returns null or "must be …, got …". */
export const is = {
  boolean: ((v) => (typeof v === 'boolean' ? null : `must be true or false, got ${describe(v)}`)) as Check,
  number: ((v) => (isPlainNumber(v) ? null : `must be a finite number, got ${describe(v)}`)) as Check,
  positive: ((v) => (isPlainNumber(v) && v > 0 ? null : `must be a positive number, got ${describe(v)}`)) as Check,
  nonNegative: ((v) => (isPlainNumber(v) && v >= 0 ? null : `must be a number ≥ 0, got ${describe(v)}`)) as Check,
  int: ((v) => (Number.isSafeInteger(v) ? null : `must be an integer, got ${describe(v)}`)) as Check,
  positiveInt: ((v) => (Number.isSafeInteger(v) && (v as number) > 0 ? null : `must be a positive integer, got ${describe(v)}`)) as Check,
  nonNegativeInt: ((v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : `must be an integer ≥ 0, got ${describe(v)}`)) as Check,
  /** A 32-bit seed. */
  seed: ((v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff ? null : `must be an integer in [0, 2^32-1], got ${describe(v)}`)) as Check,
  string: ((v) => (typeof v === 'string' ? null : `must be a string, got ${describe(v)}`)) as Check,
  function: ((v) => (typeof v === 'function' ? null : `must be a function, got ${describe(v)}`)) as Check,
  object: ((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? null : `must be an object, got ${describe(v)}`)) as Check,
  array: ((v) => (Array.isArray(v) ? null : `must be an array, got ${describe(v)}`)) as Check,
  /** Training callbacks: one callback object (e.g. `rnn.callbacks.earlyStopping({...})` or `{onEpochEnd() {...}}`) or an array of them. */
  callbacks: ((v) => {
    const one = (c: unknown) => c !== null && typeof c === 'object' && !Array.isArray(c);
    return (Array.isArray(v) ? v.every(one) : one(v))
      ? null
      : `must be a callback object or an array of them (e.g. [rnn.callbacks.earlyStopping({patience: 3})]), got ${describe(v)}`;
  }) as Check,
  /** Anything (checked by the function itself, e.g. tensors and data). */
  any: (() => null) as Check,
  /** One of the listed strings. */
  oneOf(...values: readonly (string | number | boolean | null)[]): Check {
    return (v) => (values.includes(v as string) ? null : `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`);
  },
  /** Any of the checks passes. */
  either(...checks: Check[]): Check {
    return (v) => {
      const errs = checks.map((c) => c(v));
      return errs.some((e) => e === null) ? null : errs.map((e) => e!.replace(/, got .*$/, '')).join(' or ') + `, got ${describe(v)}`;
    };
  },
  /** A shape without batch: an array of positive integers or null. */
  shape: ((v) =>
    Array.isArray(v) && v.every((d) => d === null || (Number.isSafeInteger(d) && d > 0))
      ? null
      : `must be an array of positive integers or null (e.g. [null, 1]), got ${describe(v)}`) as Check,
  /** An array whose items all pass `item`. */
  arrayOf(item: Check, what: string): Check {
    return (v) => (Array.isArray(v) && v.every((x) => item(x) === null) ? null : `must be an array of ${what}, got ${describe(v)}`);
  },
};

/** Levenshtein distance (small strings only). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The closest known name to `key` (snake_case, other case, or a small misspelling), or null. */
export function suggest(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower || k === camel(key) || k.toLowerCase() === camel(key).toLowerCase());
  if (exact) return exact;
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const dd = distance(lower, k.toLowerCase());
    if (dd < bestD) {
      bestD = dd;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** "unknown option 'x' (did you mean 'y'?)" or with the list of known ones. */
export function unknownName(kind: string, key: string, known: readonly string[]): string {
  const s = suggest(key, known);
  return s ? `unknown ${kind} '${key}' (did you mean '${s}'?)` : `unknown ${kind} '${key}' (known: ${known.join(', ')})`;
}

/**
 * Checks an options object: a plain object, no unknown keys, each present value of the right
 * type. `where` names the function for the error (e.g. 'lstm', 'model.fit'); `example` shows the
 * expected form when the argument is not an object at all.
 */
export function checkOptions(where: string, args: unknown, spec: OptionSpec, example = '{…}'): void {
  if (args === undefined) return;
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new TypeError(`${where}: expected an options object like ${example}, got ${describe(args)}`);
  }
  const known = Object.keys(spec);
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(spec, key)) throw new RangeError(`${where}: ${unknownName('option', key, known)}`);
    const v = (args as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const problem = spec[key]!(v);
    if (problem) throw new TypeError(`${where}: ${key} ${problem}`);
  }
}

/** `table[name]` for own, listed names only (never Object.prototype's). */
export function ownLookup<T>(table: Readonly<Record<string, T>>, name: unknown): T | undefined {
  return typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
}

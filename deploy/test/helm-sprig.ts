// Values and functions of the Go template model (./helm-render.ts): text/template's truthiness, comparison and
// %v printing, and the Sprig functions the chart calls, each following Sprig's behaviour (including where it
// fails: `concat` and `merge` of non-lists or non-maps, `required` on nil or "").
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { TemplateError, type Value } from './helm-template-parse.ts';

export function isMap(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** text/template truthiness (also Sprig's `empty`, inverted). */
export function truth(v: Value): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's %v for a float64: shortest digits, exponent form below 1e-4 or from 1e+06 on (1000000 → 1e+06). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return String(n);
}

/** fmt's %v. */
export function formatValue(v: Value): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${formatValue(v[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** Sprig's strval. */
function strval(v: Value): string {
  return formatValue(v);
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function toInt64(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

function sortKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) {
    const out: Record<string, Value> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}

function strslice(v: Value): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(strval);
  return [strval(v)];
}

function asList(l: Value, fn: string): Value[] {
  if (!Array.isArray(l)) throw new TemplateError(`${fn}: cannot use ${formatValue(l)} as a list`);
  return l;
}

/** Go's reflect.Kind name for a value from YAML or the template (Helm's numbers are float64). */
function kindOf(v: Value): string {
  if (v === null || v === undefined) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

function mergeInto(dst: Record<string, Value>, src: Record<string, Value>): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = dst[k];
    if (isMap(cur) && isMap(v)) mergeInto(cur, v);
    else if (!truth(cur)) dst[k] = v;
  }
}

function deepEqual(a: Value, b: Value): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)) && typeof a === typeof b;
}

function goEq(a: Value, b: Value): boolean {
  const num = (x: Value) => typeof x === 'number' || typeof x === 'bigint';
  if (num(a) && num(b) && typeof a !== typeof b) {
    throw new TemplateError(`incompatible types for comparison: ${typeof a} and ${typeof b}`);
  }
  if (Array.isArray(a) || isMap(a) || Array.isArray(b) || isMap(b)) {
    throw new TemplateError('eq: non-comparable types');
  }
  return (a ?? null) === (b ?? null);
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'bigint')) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  throw new TemplateError(`incompatible types for comparison: ${typeof a} and ${typeof b}`);
}

function printf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([%svdq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[n++];
    if (verb === 'q') return goQuote(strval(a));
    return formatValue(a);
  });
}

export const FUNCS: Record<string, (...a: Value[]) => Value> = {
  required: (msg, v) => {
    if (v === null || v === undefined || v === '') throw new TemplateError(String(msg));
    return v;
  },
  fail: (msg) => {
    throw new TemplateError(String(msg));
  },
  quote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => goQuote(strval(x)))
      .join(' '),
  squote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => `'${strval(x)}'`)
      .join(' '),
  // Annotated: `toString` also names Object.prototype's method, which defeats contextual typing.
  toString: (v: Value) => strval(v),
  print: (...a) =>
    a.reduce<string>((s, x, i) => {
      const sep = i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '';
      return s + sep + formatValue(x);
    }, ''),
  printf: (f, ...a) => printf(String(f), a),
  join: (sep, list) => strslice(list).join(String(sep)),
  splitList: (sep, s) => String(s).split(String(sep)),
  first: (l) => (Array.isArray(l) && l.length > 0 ? l[0] : null),
  last: (l) => (Array.isArray(l) && l.length > 0 ? l[l.length - 1] : null),
  list: (...a) => a,
  dict: (...a) => {
    const out: Record<string, Value> = {};
    for (let i = 0; i < a.length; i += 2) out[strval(a[i])] = a[i + 1] ?? null;
    return out;
  },
  // Sprig fails (panics) on anything but a list, nil included.
  append: (l, v) => [...asList(l, 'append'), v],
  prepend: (l, v) => [v, ...asList(l, 'prepend')],
  // Sprig panics on anything but lists (nil included).
  concat: (...ls) => ls.flatMap((l) => asList(l, 'concat')),
  uniq: (l) => asList(l, 'uniq').filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i),
  compact: (l) => asList(l, 'compact').filter(truth),
  kindIs: (kind, v) => kindOf(v) === kind,
  kindOf: (v) => kindOf(v),
  // mergo without override: a key the destination already holds with a non-empty value is kept; maps merge deeply.
  // Like Sprig it changes and returns the destination.
  merge: (dst, ...srcs) => {
    if (!isMap(dst)) throw new TemplateError(`merge: cannot use ${formatValue(dst)} as a map`);
    for (const src of srcs) {
      if (src === null || src === undefined) continue;
      if (!isMap(src)) throw new TemplateError(`merge: cannot use ${formatValue(src)} as a map`);
      mergeInto(dst, src);
    }
    return dst;
  },
  has: (needle, hay) => Array.isArray(hay) && hay.some((x) => deepEqual(x, needle)),
  hasKey: (m, k) => isMap(m) && Object.hasOwn(m, String(k)),
  keys: (...ms) => ms.flatMap((m) => (isMap(m) ? Object.keys(m) : [])),
  index: (m, ...ks) => {
    let cur = m;
    for (const k of ks) {
      if (Array.isArray(cur)) cur = cur[Number(k)];
      else if (isMap(cur)) cur = cur[String(k)];
      else throw new TemplateError(`index of untyped nil`);
    }
    return cur ?? null;
  },
  len: (v) => BigInt(typeof v === 'string' || Array.isArray(v) ? v.length : isMap(v) ? Object.keys(v).length : 0),
  default: (d, ...given) => (given.length === 0 || !truth(given[0]) ? d : given[0]),
  empty: (v) => !truth(v),
  coalesce: (...a) => a.find(truth) ?? null,
  ternary: (a, b, c) => (truth(c) ? a : b),
  not: (v) => !truth(v),
  eq: (a, ...bs) => bs.some((b) => goEq(a, b)),
  ne: (a, b) => !goEq(a, b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  add: (...a) => a.reduce<bigint>((s, x) => s + toInt64(x), 0n),
  sub: (a, b) => toInt64(a) - toInt64(b),
  mul: (a, ...b) => b.reduce<bigint>((s, x) => s * toInt64(x), toInt64(a)),
  div: (a, b) => toInt64(a) / toInt64(b),
  int: (v) => toInt64(v),
  int64: (v) => toInt64(v),
  trunc: (n, s) => {
    const str = String(s);
    const k = Number(n);
    return k >= 0 ? str.slice(0, k) : str.slice(Math.max(0, str.length + k));
  },
  trim: (s) => String(s).trim(),
  trimSuffix: (suf, s) => (String(s).endsWith(String(suf)) ? String(s).slice(0, -String(suf).length || undefined) : s),
  trimPrefix: (pre, s) => (String(s).startsWith(String(pre)) ? String(s).slice(String(pre).length) : s),
  replace: (o, n, s) => String(s).split(String(o)).join(String(n)),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  contains: (sub, s) => String(s).includes(String(sub)),
  hasPrefix: (p, s) => String(s).startsWith(String(p)),
  hasSuffix: (p, s) => String(s).endsWith(String(p)),
  indent: (n, s) => {
    const pad = ' '.repeat(Number(n));
    return pad + String(s).replaceAll('\n', `\n${pad}`);
  },
  nindent: (n, s) => {
    const pad = ' '.repeat(Number(n));
    return `\n${pad}${String(s).replaceAll('\n', `\n${pad}`)}`;
  },
  sha256sum: (s) => createHash('sha256').update(String(s)).digest('hex'),
  toJson: (v) => JSON.stringify(sortKeys(v) ?? null),
  toPrettyJson: (v) => JSON.stringify(sortKeys(v) ?? null, null, 2),
  toYaml: (v) => (v === null || v === undefined ? 'null' : stringifyYaml(sortKeys(v)).replace(/\n$/, '')),
  fromYaml: (s) => {
    try {
      const v = parseYaml(String(s));
      return isMap(v) ? v : {};
    } catch (err) {
      return { Error: (err as Error).message };
    }
  },
  fromJson: (s) => {
    try {
      return JSON.parse(String(s));
    } catch (err) {
      return { Error: (err as Error).message };
    }
  },
};

// Semantic-version order as OSV's SEMVER ranges use it (semver.org §11): numeric major.minor.patch, a pre-release
// sorts before its release, pre-release identifiers compared one by one (numbers numerically, below strings).
// Build metadata (+…) does not count.

interface Parsed {
  core: [number, number, number];
  pre: string[];
}

function parse(version: string): Parsed {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!m) throw new Error(`not a semantic version: ${version}`);
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

export function compareVersions(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre.length === 0 || y.pre.length === 0) return Math.sign(y.pre.length - x.pre.length);
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** One OSV SEMVER range: affected from `introduced` (inclusive) up to `fixed` (exclusive) or `last_affected` (inclusive). */
export interface AffectedRange {
  readonly introduced: string;
  readonly fixed?: string;
  readonly last_affected?: string;
}

export function inRange(version: string, range: AffectedRange): boolean {
  if (range.introduced !== '0' && compareVersions(version, range.introduced) < 0) return false;
  if (range.fixed !== undefined) return compareVersions(version, range.fixed) < 0;
  if (range.last_affected !== undefined) return compareVersions(version, range.last_affected) <= 0;
  return true;
}

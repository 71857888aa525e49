// The vendored advisory snapshot (scripts/audit/npm-advisories.json) and the matching of locked packages against it.
// Entries are OSV records reduced to what matching needs; `importOsv` makes them from OSV JSON files (the GitHub
// Advisory Database's advisories/**/GHSA-*.json, or an OSV npm export), keeping the packages a lock file names.

import type { LockedPackage } from './lockfile.ts';
import { type AffectedRange, inRange } from './versions.ts';

export interface Advisory {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly severity: string;
  readonly package: string;
  readonly ranges: readonly AffectedRange[];
}

export interface Snapshot {
  readonly source: string;
  readonly takenAt: string;
  readonly advisories: readonly Advisory[];
}

export interface Finding {
  readonly pkg: LockedPackage;
  readonly advisory: Advisory;
  /** The first version that fixes the range this one is in, when the advisory names one. */
  readonly fixedIn: string | undefined;
}

export function findVulnerable(packages: readonly LockedPackage[], snapshot: Snapshot): Finding[] {
  const byName = new Map<string, Advisory[]>();
  for (const a of snapshot.advisories) byName.set(a.package, [...(byName.get(a.package) ?? []), a]);
  const out: Finding[] = [];
  for (const pkg of packages) {
    for (const advisory of byName.get(pkg.name) ?? []) {
      const range = advisory.ranges.find((r) => inRange(pkg.version, r));
      if (range) out.push({ pkg, advisory, fixedIn: range.fixed });
    }
  }
  return out;
}

interface OsvRecord {
  id?: string;
  aliases?: string[];
  summary?: string;
  withdrawn?: string;
  database_specific?: { severity?: string };
  affected?: {
    package?: { ecosystem?: string; name?: string };
    ranges?: { type?: string; events?: Record<string, string>[] }[];
  }[];
}

/** OSV records → snapshot entries for the npm packages in `names` (withdrawn advisories left out). */
export function importOsv(records: readonly OsvRecord[], names: ReadonlySet<string>): Advisory[] {
  const out: Advisory[] = [];
  for (const r of records) {
    if (!r.id || r.withdrawn) continue;
    for (const affected of r.affected ?? []) {
      const name = affected.package?.name;
      if (affected.package?.ecosystem !== 'npm' || !name || !names.has(name)) continue;
      const ranges: AffectedRange[] = [];
      for (const range of affected.ranges ?? []) {
        if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') continue;
        let open: string | undefined;
        for (const event of range.events ?? []) {
          if (event.introduced !== undefined) open = event.introduced;
          else if (open !== undefined && event.fixed !== undefined) {
            ranges.push({ introduced: open, fixed: event.fixed });
            open = undefined;
          } else if (open !== undefined && event.last_affected !== undefined) {
            ranges.push({ introduced: open, last_affected: event.last_affected });
            open = undefined;
          }
        }
        if (open !== undefined) ranges.push({ introduced: open });
      }
      if (ranges.length === 0) continue;
      out.push({
        id: r.id,
        aliases: r.aliases ?? [],
        summary: r.summary ?? '',
        severity: (r.database_specific?.severity ?? 'unknown').toLowerCase(),
        package: name,
        ranges,
      });
    }
  }
  return out.sort((a, b) => a.package.localeCompare(b.package) || a.id.localeCompare(b.id));
}

// Offline dependency vulnerability check (the registry here answers `npm audit` with 405): every package in
// package-lock.json against the vendored advisory snapshot scripts/audit/npm-advisories.json. Exit 1 on a match.
//   node scripts/audit-offline.ts [--lock FILE] [--snapshot FILE]
//   node scripts/audit-offline.ts --import DIR   refresh the snapshot from OSV JSON files under DIR (a checkout of
//                                                github/advisory-database, or OSV's npm export unzipped),
//                                                keeping the packages the lock file names
// What it covers and what not: README.md, Testing ("Dependency vulnerabilities").
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findVulnerable, importOsv, type Snapshot } from './audit/advisories.ts';
import { lockedPackages } from './audit/lockfile.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    lock: { type: 'string', default: join(root, 'package-lock.json') },
    snapshot: { type: 'string', default: join(root, 'scripts/audit/npm-advisories.json') },
    import: { type: 'string' },
  },
});
const packages = lockedPackages(JSON.parse(readFileSync(values.lock, 'utf8')));

if (values.import) {
  const records: unknown[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.json')) records.push(JSON.parse(readFileSync(full, 'utf8')));
    }
  };
  walk(values.import);
  const advisories = importOsv(records as Parameters<typeof importOsv>[0], new Set(packages.map((p) => p.name)));
  const snapshot: Snapshot = {
    source: `OSV records under ${values.import}`,
    takenAt: new Date().toISOString().slice(0, 10),
    advisories,
  };
  writeFileSync(values.snapshot, `${JSON.stringify(snapshot, null, 2)}\n`);
  console.log(`${advisories.length} advisories for packages in the lock file written to ${values.snapshot}`);
  process.exit(0);
}

const snapshot = JSON.parse(readFileSync(values.snapshot, 'utf8')) as Snapshot;
const findings = findVulnerable(packages, snapshot);
const covered = new Set(snapshot.advisories.map((a) => a.package));
console.log(
  `${packages.length} locked packages checked against ${snapshot.advisories.length} advisories for ${covered.size} packages ` +
    `(snapshot of ${snapshot.takenAt}: ${snapshot.source}).`,
);
for (const f of findings) {
  const a = f.advisory;
  console.log(
    `VULNERABLE ${f.pkg.name}@${f.pkg.version}${f.pkg.dev ? ' (dev)' : ''} at ${f.pkg.path}: ${a.id}` +
      `${a.aliases.length ? ` (${a.aliases.join(', ')})` : ''} ${a.severity}: ${a.summary}` +
      (f.fixedIn ? `; fixed in ${f.fixedIn}` : '; no fixed version'),
  );
}
if (findings.length > 0) {
  console.log(`${findings.length} vulnerable package version(s).`);
  process.exit(1);
}
console.log('No locked package version is in an advisory of the snapshot.');

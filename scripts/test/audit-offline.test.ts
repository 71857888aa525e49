// The offline dependency vulnerability check: the project's own lock file against the vendored snapshot (the CI
// gate), a lock file holding a known-vulnerable version (it must say which advisory and exit 1), OSV import, and
// the version order the ranges rely on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importOsv, type Snapshot } from '../audit/advisories.ts';
import { lockedPackages } from '../audit/lockfile.ts';
import { compareVersions, inRange } from '../audit/versions.ts';

const root = join(import.meta.dirname, '../..');
const script = join(root, 'scripts/audit-offline.ts');
const snapshot = JSON.parse(readFileSync(join(root, 'scripts/audit/npm-advisories.json'), 'utf8')) as Snapshot;
const audit = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

describe('offline dependency vulnerability check', () => {
  it("passes the project's package-lock.json: no locked version is in an advisory of the snapshot", () => {
    const r = audit();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\d{3,} locked packages checked against \d+ advisories/m);
  });

  it('fails a lock file with a vulnerable version, naming the package, where it is, the advisory and the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-audit-'));
    try {
      const lock = {
        lockfileVersion: 3,
        packages: {
          '': { name: 'x' },
          shared: { name: '@logferry/shared', version: '0.1.0' },
          'node_modules/@logferry/shared': { resolved: 'shared', link: true },
          'node_modules/jose': { version: '4.15.4' },
          'node_modules/a/node_modules/fast-xml-parser': { version: '4.4.0', dev: true },
          'node_modules/semver': { version: '7.5.2' },
        },
      };
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
      const r = audit('--lock', join(dir, 'package-lock.json'));
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /^VULNERABLE jose@4\.15\.4 at node_modules\/jose: GHSA-hhhv-q57g-882q \(CVE-2024-28176\) moderate: .*; fixed in 4\.15\.5$/m,
      );
      assert.match(
        r.stdout,
        /^VULNERABLE fast-xml-parser@4\.4\.0 \(dev\) at node_modules\/a\/node_modules\/fast-xml-parser: GHSA-/m,
      );
      // 7.5.2 is the fix of GHSA-c2qf-rxjj-qqgw, not in it.
      assert.doesNotMatch(r.stdout, /semver@/);
      assert.match(r.stdout, /^\d+ vulnerable package version\(s\)\.$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a well-formed snapshot: each advisory names a package, an id and ranges with valid versions', () => {
    assert.ok(snapshot.advisories.length > 0);
    for (const a of snapshot.advisories) {
      assert.match(a.id, /^(GHSA-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}|CVE-\d{4}-\d+)$/, a.id);
      assert.ok(a.ranges.length > 0, a.id);
      for (const r of a.ranges) {
        if (r.introduced !== '0') compareVersions(r.introduced, '0.0.0');
        if (r.fixed)
          assert.ok(r.introduced === '0' || compareVersions(r.introduced, r.fixed) < 0, `${a.id} ${a.package}`);
      }
    }
  });

  it('imports OSV records: npm only, packages the lock names, ranges from events, withdrawn left out', () => {
    const names = new Set(
      lockedPackages(JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))).map((p) => p.name),
    );
    assert.ok(names.has('jose'));
    const imported = importOsv(
      [
        {
          id: 'GHSA-aaaa-bbbb-cccc',
          aliases: ['CVE-2099-1'],
          summary: 's',
          database_specific: { severity: 'HIGH' },
          affected: [
            {
              package: { ecosystem: 'npm', name: 'jose' },
              ranges: [
                {
                  type: 'ECOSYSTEM',
                  events: [
                    { introduced: '0' },
                    { fixed: '2.0.7' },
                    { introduced: '3.0.0' },
                    { last_affected: '4.15.4' },
                  ],
                },
              ],
            },
            {
              package: { ecosystem: 'PyPI', name: 'jose' },
              ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
            },
            {
              package: { ecosystem: 'npm', name: 'not-in-the-lock-file' },
              ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
            },
          ],
        },
        {
          id: 'GHSA-dddd-eeee-ffff',
          withdrawn: '2099-01-01T00:00:00Z',
          affected: [{ package: { ecosystem: 'npm', name: 'jose' } }],
        },
      ],
      names,
    );
    assert.deepEqual(imported, [
      {
        id: 'GHSA-aaaa-bbbb-cccc',
        aliases: ['CVE-2099-1'],
        summary: 's',
        severity: 'high',
        package: 'jose',
        ranges: [
          { introduced: '0', fixed: '2.0.7' },
          { introduced: '3.0.0', last_affected: '4.15.4' },
        ],
      },
    ]);
  });

  it('orders versions as semver does (pre-releases before their release) and reads ranges as OSV does', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 1; i < ordered.length; i++)
      assert.equal(compareVersions(ordered[i - 1] ?? '', ordered[i] ?? ''), -1, `${ordered[i - 1]} < ${ordered[i]}`);
    assert.equal(compareVersions('1.0.0+build.1', '1.0.0'), 0);
    assert.ok(inRange('4.15.4', { introduced: '3.0.0', fixed: '4.15.5' }));
    assert.ok(!inRange('4.15.5', { introduced: '3.0.0', fixed: '4.15.5' }));
    assert.ok(!inRange('2.9.0', { introduced: '3.0.0', fixed: '4.15.5' }));
    assert.ok(inRange('4.15.4', { introduced: '0', last_affected: '4.15.4' }));
    assert.ok(inRange('4.15.5-rc.1', { introduced: '0', fixed: '4.15.5' }));
    assert.ok(inRange('9.0.0', { introduced: '1.0.0' }));
  });
});

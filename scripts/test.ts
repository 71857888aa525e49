// Runs every *.test.ts with Node's own test runner (TypeScript natively, no build step).
//   npm test              all tests: unit, integration (fauxqs, Azurite, stand-ins), end to end, browser
//   npm test -- --unit    only files under */test/unit/ and shared/ unit tests (fast, no servers)
//   npm test -- <substr>  only files whose path contains <substr>
import { spawn } from 'node:child_process';
import { glob } from 'node:fs/promises';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

const roots = ['shared', 'standins', 'services/*', 'test', 'cli', 'bench', 'deploy', 'scripts'];
const files: string[] = [];
for (const root of roots) {
  for await (const f of glob(`${root}/**/*.test.ts`, { exclude: (p) => p.includes('node_modules') })) files.push(f);
}
const selected = files
  .filter((f) => !unitOnly || f.includes('/unit/'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
console.log(`running ${selected.length} test files`);
// Preloaded into every test file's process: a test that imports @azure/service-bus before any project module
// still gets rhea's disposition fix (without it the fix refuses to load after rhea, and the test fails).
const rheaFix = new URL('../shared/src/amqp/rhea-dispositions-fix.ts', import.meta.url).href;
const child = spawn(
  process.execPath,
  ['--import', rheaFix, '--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...selected],
  { stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

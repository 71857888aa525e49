// Runs a TypeScript entry point (cli/src/main.ts, scripts/test.ts) on Node 24, whatever Node npm started:
//   node scripts/node24.mjs <entry.ts> [args…]
// On Node 24 or newer it loads the entry in this process. On an older Node it runs the entry under Node 24 from
// the npm registry's `node@24` package, fetched once into .tools/node24 (as .ci/run does), forwarding signals and
// the exit code; if that cannot be had it prints one line naming Node 24 and the fix, and exits 1.
// Plain JavaScript in an old dialect on purpose: it must run on the old Node it is rescuing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REQUIRED_MAJOR = 24;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools', 'node24');
const node24 = join(tools, 'node_modules', 'node', 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
const entry = process.argv[2];
const args = process.argv.slice(3);
const major = Number(process.versions.node.split('.')[0]);

if (!entry) {
  process.stderr.write('usage: node scripts/node24.mjs <entry.ts> [args…]\n');
  process.exit(2);
}
const entryPath = resolve(root, entry);

if (major >= REQUIRED_MAJOR) {
  // The entry reads its arguments from process.argv.slice(2), as if started directly.
  process.argv = [process.argv[0], entryPath].concat(args);
  import(pathToFileURL(entryPath).href).catch((err) => {
    process.stderr.write(err?.stack || String(err));
    process.stderr.write('\n');
    process.exit(1);
  });
} else {
  const problem = existsSync(node24) && works(node24) ? undefined : provision();
  if (problem) {
    process.stderr.write(
      'logferry needs Node.js ' +
        REQUIRED_MAJOR +
        ' (this is ' +
        process.version +
        ') and could not fetch node@' +
        REQUIRED_MAJOR +
        ' from the npm registry (' +
        problem +
        '): install Node ' +
        REQUIRED_MAJOR +
        ' (nvm install, which reads .nvmrc) and run the command again.\n',
    );
    process.exit(1);
  }
  runUnder(node24);
}

function works(node) {
  const r = spawnSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' });
  return r.status === 0 && Number(r.stdout.trim()) >= REQUIRED_MAJOR;
}

function provision() {
  process.stderr.write(
    'Node ' +
      process.version +
      ' here; logferry runs on Node ' +
      REQUIRED_MAJOR +
      ': fetching node@' +
      REQUIRED_MAJOR +
      ' from the npm registry into .tools/node24 (once, about 50 MB)…\n',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(
    npm,
    [
      'install',
      '--prefix',
      tools,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      'node@' + REQUIRED_MAJOR,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.error) return r.error.message;
  if (r.status !== 0) {
    // npm's first error line says why (ECONNREFUSED, E404…); its last one only points at a log file.
    const lines = `${r.stderr || ''}\n${r.stdout || ''}`.split('\n').filter((l) => l.trim());
    const why = lines.find((l) => /^npm error (?!A complete log)/.test(l)) || lines[0];
    return `npm exited ${r.status}${why ? `: ${why.replace(/^npm error /, '')}` : ''}`;
  }
  return existsSync(node24) && works(node24) ? undefined : 'no working node binary in ' + node24;
}

function runUnder(node) {
  const env = Object.assign({}, process.env);
  // Anything the entry starts as plain `node` (a test's child process, a script) gets Node 24 too.
  env.PATH = dirname(node) + delimiter + (process.env.PATH || '');
  const child = spawn(node, [entryPath].concat(args), { stdio: 'inherit', env: env });
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  forwarded.forEach((signal) => {
    process.on(signal, () => {
      // A terminal's Ctrl-C reaches the child too; the child treats the two as one request.
      try {
        child.kill(signal);
      } catch (_e) {
        // Already gone.
      }
    });
  });
  child.on('error', (err) => {
    process.stderr.write('logferry: could not start ' + node + ': ' + err.message + '\n');
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      forwarded.forEach((s) => {
        process.removeAllListeners(s);
      });
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

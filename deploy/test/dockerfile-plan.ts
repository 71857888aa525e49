// No Docker engine here, so the tests build the image as a plan: this reads the Dockerfile, picks a target (by
// default the last stage, as `docker build .` does) and carries out its instructions in a temp dir standing for
// the image's root: COPY from the build context (after .dockerignore), COPY --from another stage (planned the same
// way), RUN through `sh -c` in the WORKDIR, ENV, USER, ENTRYPOINT and CMD recorded. The base image is empty here
// (Node and npm come from this machine); any instruction outside that subset throws, so a Dockerfile change the
// plan cannot follow fails a test instead of being silently skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, matchesGlob } from 'node:path';

export interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: readonly { readonly op: string; readonly args: string }[];
}

export interface Dockerfile {
  /** ARG declarations before the first FROM, with their defaults. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
  /** What `docker build .` builds: the last stage. */
  readonly defaultTarget: Stage;
}

export interface ImagePlan {
  readonly stage: Stage;
  /** The temp dir standing for the image's `/`. */
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly user: string | undefined;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** Every RUN command as it was run, and its output. */
  readonly runs: readonly { readonly command: string; readonly output: string }[];
  /** Path on this machine of a path in the image. */
  path(inImage: string): string;
  dispose(): void;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: { name: string; from: string; instructions: { op: string; args: string }[] }[] = [];
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    const op = (m?.[1] ?? '').toUpperCase();
    const args = (m?.[2] ?? '').replace(/\s+/g, ' ').trim();
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`FROM ${args}: not understood`);
      stages.push({ from: from[1] ?? '', name: from[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      const arg = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(args);
      if (op !== 'ARG' || !arg) throw new Error(`${op} before the first FROM`);
      globalArgs.set(arg[1] ?? '', unquote(arg[2] ?? ''));
    } else stages.at(-1)?.instructions.push({ op, args });
  }
  const defaultTarget = stages.at(-1);
  if (!defaultTarget) throw new Error('no FROM in the Dockerfile');
  return { globalArgs, stages, defaultTarget };
}

/** The base image a stage's FROM names once build arguments are substituted (`${NAME}` or `$NAME`). */
export function baseImage(file: Dockerfile, stage: Stage, buildArgs: Record<string, string> = {}): string {
  return stage.from.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a: string | undefined, b: string | undefined) => {
      const name = a ?? b ?? '';
      return buildArgs[name] ?? file.globalArgs.get(name) ?? '';
    },
  );
}

export interface PlanOptions {
  /** The build context (the repository root). */
  readonly context: string;
  /** Stage to build; the default target when absent. */
  readonly target?: string;
  /** Environment for RUN commands (PATH must reach npm). */
  readonly runEnv?: NodeJS.ProcessEnv;
}

export function planImage(file: Dockerfile, options: PlanOptions): ImagePlan {
  const stage = options.target ? file.stages.find((s) => s.name === options.target) : file.defaultTarget;
  if (!stage) throw new Error(`no stage named ${options.target}`);
  if (file.stages.some((s) => s.name === stage.from))
    throw new Error(`FROM another stage (${stage.from}) is not modelled`);
  const files = contextFiles(options.context);
  const root = mkdtempSync(join(tmpdir(), `logferry-image-${stage.name}-`));
  const others: ImagePlan[] = [];
  let workdir = '/';
  let user: string | undefined;
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  const env: Record<string, string> = {};
  const runs: { command: string; output: string }[] = [];
  const inImage = (p: string) => join(root, p.startsWith('/') ? p : join(workdir, p));
  try {
    for (const { op, args } of stage.instructions) {
      if (op === 'WORKDIR') {
        workdir = args.startsWith('/') ? args : join(workdir, args);
        mkdirSync(inImage(workdir), { recursive: true });
      } else if (op === 'ENV') {
        for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S+)/g))
          env[m[1] ?? ''] = unquote(m[2] ?? '');
      } else if (op === 'USER') user = args;
      else if (op === 'ENTRYPOINT') entrypoint = JSON.parse(args) as string[];
      else if (op === 'CMD') cmd = JSON.parse(args) as string[];
      else if (op === 'EXPOSE' || op === 'LABEL') continue;
      else if (op === 'COPY') {
        const words = args.split(' ');
        const flags = words.filter((w) => w.startsWith('--'));
        const [dest = '', ...srcs] = words.filter((w) => !w.startsWith('--')).reverse();
        srcs.reverse();
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        if (from) {
          const other = planImage(file, { ...options, target: from });
          others.push(other);
          // The other stage's plan is thrown away after this: moving its files is copying them, only faster.
          for (const src of srcs) {
            const target = inImage(dest);
            if (existsSync(target) && readdirSync(target).length > 0)
              cpSync(other.path(src), target, { recursive: true, verbatimSymlinks: true });
            else {
              rmSync(target, { recursive: true, force: true });
              mkdirSync(dirname(target), { recursive: true });
              renameSync(other.path(src), target);
            }
          }
        } else {
          for (const src of srcs) copyFromContext(options.context, files, src, inImage(dest), dest.endsWith('/'));
        }
      } else if (op === 'RUN') {
        const command = args.replace(/^(--\S+\s+)*/, '');
        const r = spawnSync('sh', ['-c', command], {
          cwd: inImage(workdir),
          env: { ...(options.runEnv ?? withoutNpmSettings(process.env)), ...env },
          encoding: 'utf8',
        });
        const output = `${r.stdout}${r.stderr}`;
        if (r.status !== 0) throw new Error(`RUN ${command} exited ${r.status}:\n${output}`);
        runs.push({ command, output });
      } else throw new Error(`${op} is not modelled by deploy/test/dockerfile-plan.ts`);
    }
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  } finally {
    for (const o of others) o.dispose();
  }
  return {
    stage,
    root,
    workdir,
    env,
    user,
    entrypoint,
    cmd,
    runs,
    path: inImage,
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The files `docker build` sends: tracked and untracked-but-not-ignored ones, less .dockerignore's patterns. */
function contextFiles(context: string): string[] {
  const patterns = readFileSync(join(context, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: context,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !ignored(f, patterns));
}

/** Docker's .dockerignore semantics, enough for ours: later patterns win, `!` re-includes. */
function ignored(path: string, patterns: readonly string[]): boolean {
  let result = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const pattern = negate ? p.slice(1) : p;
    if (matchesGlob(path, pattern) || matchesGlob(path, `${pattern}/**`)) result = !negate;
  }
  return result;
}

function copyFromContext(context: string, files: readonly string[], src: string, dest: string, intoDir: boolean): void {
  if (src === '.' || src === './') {
    for (const f of files) copyFile(context, f, join(dest, f));
    return;
  }
  const prefix = src.replace(/\/$/, '');
  const matched = files.filter((f) => f === prefix || f.startsWith(`${prefix}/`));
  if (matched.length === 0) throw new Error(`COPY ${src}: nothing in the build context`);
  for (const f of matched) {
    if (f === prefix) copyFile(context, f, intoDir ? join(dest, f.split('/').pop() ?? f) : dest);
    else copyFile(context, f, join(dest, f.slice(prefix.length + 1)));
  }
}

function copyFile(context: string, file: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(context, file), target);
}

/**
 * Under `npm test`, npm's own settings (npm_config_local_prefix and the like) are in the environment; a RUN's npm
 * must not inherit them, or it would act on this checkout instead of the image.
 */
function withoutNpmSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
}

function unquote(s: string): string {
  return /^".*"$/.test(s) ? (JSON.parse(s) as string) : s;
}

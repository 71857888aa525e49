import { join } from 'node:path';
import type { ServiceProcess } from '@logferry/standins';
import { EXIT } from '../help.ts';
import { SERVICES } from '../services.ts';
import { ServiceGroup } from './service-group.ts';
import { defaultBaseDir } from './state.ts';
import { onStopRequest } from './stop-requests.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `run all` against real endpoints: the six services as child processes with this process's environment
 * (each reads what it needs), no stand-ins. Every service binds HEALTH_PORT, so one machine needs a
 * distinct port per service: HEALTH_PORT_BASE (default 8180) + index, unless HEALTH_PORT_<SERVICE> is set.
 */
export async function runRemote(options: { verbose: boolean; baseDir?: string }): Promise<number> {
  const { startServiceProcess } = await import('@logferry/standins');
  const logDir = join(options.baseDir ?? defaultBaseDir(), 'logs');
  const group = new ServiceGroup();
  const base = Number(process.env.HEALTH_PORT_BASE ?? 8180);
  try {
    for (const [i, name] of SERVICES.entries()) {
      const own = process.env[`HEALTH_PORT_${name.toUpperCase().replaceAll('-', '_')}`];
      group.add(
        await startServiceProcess(
          name,
          { HEALTH_PORT: own ?? String(base + i) },
          { logDir, baseEnv: process.env, ...(options.verbose ? { echo: true } : {}) },
        ),
      );
    }
    await group.waitReady(120_000);
  } catch (err) {
    process.stderr.write(`logferry run all: ${(err as Error).message}\n`);
    await group.stopAll(10_000);
    return EXIT.failure;
  }
  say(`All six services are ready (logs in ${logDir}). Ctrl-C stops them.`);
  group.onUnexpectedExit((p: ServiceProcess, code: number) =>
    say(`!! ${p.name} exited with code ${code}; its log: ${p.logFile}`),
  );
  return new Promise<number>((resolve) => {
    let stopping = false;
    onStopRequest((reason, repeated) => {
      if (repeated) return group.killAll();
      if (stopping) return;
      stopping = true;
      if (reason !== 'parent exited') say(`${reason}: stopping the services…`);
      void group.stopAll(30_000).then((problems) => {
        if (reason !== 'parent exited') for (const p of problems) say(`  ${p}`);
        resolve(problems.length === 0 ? EXIT.ok : EXIT.failure);
      });
    });
    process.on('exit', () => group.killAll());
  });
}

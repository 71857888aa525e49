import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  /** Connection string for Blob, Queue and Table SDK clients (Tables need allowInsecureConnection). */
  readonly connectionString: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts Azurite (Blob, Queue, Table) as a child process on random loopback ports, in memory, telemetry off.
 * The real ports are read from its stdout.
 */
export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<AzuriteHandle> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--blobHost',
      '127.0.0.1',
      '--queueHost',
      '127.0.0.1',
      '--tableHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--queuePort',
      '0',
      '--tablePort',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ports: Partial<Record<'Blob' | 'Queue' | 'Table', string>> = {};
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Azurite did not start within ${options.timeoutMs ?? 20_000} ms:\n${output}`)),
      options.timeoutMs ?? 20_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/g,
      )) {
        ports[m[1] as 'Blob' | 'Queue' | 'Table'] = m[2];
      }
      if (ports.Blob && ports.Queue && ports.Table) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
  await ready;
  const blobEndpoint = `http://127.0.0.1:${ports.Blob}/${AZURITE_ACCOUNT}`;
  const queueEndpoint = `http://127.0.0.1:${ports.Queue}/${AZURITE_ACCOUNT}`;
  const tableEndpoint = `http://127.0.0.1:${ports.Table}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    queueEndpoint,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

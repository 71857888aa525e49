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

export interface AzuriteOptions {
  readonly timeoutMs?: number;
  /**
   * In its own process group. Ctrl-C in a terminal signals the whole foreground group, and the local run must
   * stop the services before the storage they are still writing to, not at the same moment.
   */
  readonly detached?: boolean;
}

/**
 * Starts Azurite (Blob, Queue, Table) as a child process on random loopback ports, in memory, telemetry off.
 * The real ports are read from its stdout.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const entry = createRequire(import.meta.url).resolve('azurite/dist/src/azurite.js');
  const args = ['--inMemoryPersistence', '--disableTelemetry', '--skipApiVersionCheck', '--loose'];
  for (const svc of ['blob', 'queue', 'table']) args.push(`--${svc}Host`, '127.0.0.1', `--${svc}Port`, '0');
  const child = spawn(process.execPath, [entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const timeoutMs = options.timeoutMs ?? 20_000;
  const ports: Partial<Record<'Blob' | 'Queue' | 'Table', string>> = {};
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`Azurite did not start within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        collect(chunk);
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
      child.stderr.on('data', collect);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited with ${code}:\n${output}`));
      });
    });
  } finally {
    // Keep draining its output so a full pipe never blocks it, without holding on to it.
    child.stdout.removeAllListeners('data').resume();
    child.stderr.removeAllListeners('data').resume();
  }
  const endpoint = (port: string | undefined) => `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const blobEndpoint = endpoint(ports.Blob);
  const queueEndpoint = endpoint(ports.Queue);
  const tableEndpoint = endpoint(ports.Table);
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

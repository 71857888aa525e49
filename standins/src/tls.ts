import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface LoopbackCertificate {
  /** Server certificate (self-signed, so it is also the CA clients trust). */
  readonly certPem: string;
  readonly keyPem: string;
  /** Same PEM as certPem: what a client puts in its CA list. */
  readonly caCertPem: string;
  /** A file holding caCertPem, for NODE_EXTRA_CA_CERTS in child processes. */
  readonly caCertPath: string;
  /** Removes the temp file. */
  dispose(): Promise<void>;
}

export interface CertificateOptions {
  /** Host names besides localhost it must be valid for (on a compose network: `standins`). */
  readonly hostNames?: readonly string[];
  /** Where to write ca.pem, kept after dispose (other containers mount it); default a temp dir that dispose removes. */
  readonly dir?: string;
  readonly validDays?: number;
}

/**
 * Makes a throw-away certificate for 127.0.0.1, ::1, localhost (and any `hostNames`) at stand-in start.
 * Stand-ins must be HTTPS because the Azure SDK's bearer-token policy refuses http:// URLs, and a
 * fresh certificate per run means no key ever lives in the repository. Children trust it through
 * NODE_EXTRA_CA_CERTS=<caCertPath>; in-process clients pass caCertPem as their `ca`.
 */
export async function createLoopbackCertificate(options: CertificateOptions = {}): Promise<LoopbackCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const names = [...new Set(['localhost', ...(options.hostNames ?? [])])];
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + (options.validDays ?? 7) * 24 * 3600_000),
    extensions: [
      // A self-signed leaf trusted as a root must be allowed to act as its own CA for OpenSSL to accept it.
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.map((value) => ({ type: 2 as const, value })),
          { type: 7 as const, ip: '127.0.0.1' },
          { type: 7 as const, ip: '::1' },
        ],
      },
    ],
  });
  const temporary = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'logferry-tls-')));
  await mkdir(dir, { recursive: true });
  const caCertPath = join(dir, 'ca.pem');
  await writeFile(caCertPath, pems.cert, { mode: 0o644 });
  return {
    certPem: pems.cert,
    keyPem: pems.private,
    caCertPem: pems.cert,
    caCertPath,
    dispose: async () => {
      if (temporary) await rm(dir, { recursive: true, force: true });
    },
  };
}

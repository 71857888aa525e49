import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { LoopbackCertificate } from '../tls.ts';

/**
 * A throw-away certificate like tls.ts makes, valid also for extra host names (on a compose network
 * the services reach the stand-ins as `standins`, not 127.0.0.1). The CA file is written into `dir`
 * so other containers can mount it as NODE_EXTRA_CA_CERTS.
 */
export async function createStandInCertificate(
  dir: string,
  hostNames: readonly string[],
): Promise<LoopbackCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const names = [...new Set(['localhost', ...hostNames])];
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 30 * 24 * 3600_000),
    extensions: [
      // Trusted as its own root, so OpenSSL needs it to be a CA.
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
  await mkdir(dir, { recursive: true });
  const caCertPath = join(dir, 'ca.pem');
  await writeFile(caCertPath, pems.cert, { mode: 0o644 });
  return {
    certPem: pems.cert,
    keyPem: pems.private,
    caCertPem: pems.cert,
    caCertPath,
    // The file stays: containers started later still need to trust it.
    dispose: async () => {},
  };
}

import { createLoopbackCertificate, type LoopbackCertificate } from '../tls.ts';

/**
 * The stand-ins' certificate for docker-compose: valid also for the names other containers use (`standins`),
 * for 30 days, with the CA written into `dir` (kept after dispose) so other containers can mount it as
 * NODE_EXTRA_CA_CERTS.
 */
export function createStandInCertificate(dir: string, hostNames: readonly string[]): Promise<LoopbackCertificate> {
  return createLoopbackCertificate({ dir, hostNames, validDays: 30 });
}

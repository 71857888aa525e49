import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localStandInCredential } from '../../src/local-credential.ts';

describe('localStandInCredential', () => {
  it('gives the placeholder for any stand-in host when LOGFERRY_LOCAL is on', async () => {
    for (const endpoint of ['https://127.0.0.1:8443', 'https://[::1]:8443', 'https://standins:8443']) {
      const credential = localStandInCredential(true, endpoint);
      assert.equal(
        (await credential?.getToken('https://monitor.azure.com/.default'))?.token,
        'logferry-local-stand-in',
      );
    }
  });

  it('never gives it without LOGFERRY_LOCAL', () => {
    assert.equal(localStandInCredential(false, 'https://standins:8443'), undefined);
    assert.equal(localStandInCredential(false, 'https://127.0.0.1:8443'), undefined);
  });

  it('never gives it for an Azure Monitor endpoint, even with LOGFERRY_LOCAL on', () => {
    for (const endpoint of [
      'https://my-dce-abcd.westeurope-1.ingest.monitor.azure.com',
      'https://my-dcr-abcd.eastus-1.ingest.monitor.azure.com',
      'https://dce.usgovvirginia-1.ingest.monitor.azure.us',
      'https://dce.chinaeast2-1.ingest.monitor.azure.cn',
    ]) {
      assert.equal(localStandInCredential(true, endpoint), undefined, endpoint);
    }
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ServiceBusClient } from '@azure/service-bus';

const cli = fileURLToPath(new URL('../../src/servicebus/cli.ts', import.meta.url));

describe('Service Bus stand-in CLI', () => {
  it('prints a working connection string and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    const exited = once(child, 'exit');
    try {
      let connectionString: string | undefined;
      for await (const line of createInterface({ input: child.stdout })) {
        if (line.startsWith('Endpoint=')) {
          connectionString = line;
          break;
        }
      }
      assert.ok(connectionString, 'the CLI printed a connection string');
      const client = new ServiceBusClient(connectionString);
      await client.createSender('s3-objects').sendMessages({ body: 'via-cli' });
      const receiver = client.createReceiver('s3-objects', 's3-fetcher', { receiveMode: 'receiveAndDelete' });
      const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      assert.equal(m?.body, 'via-cli');
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
  });
});

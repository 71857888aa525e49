// The Service Bus stand-in's tests: a broker on a topology of their own, reached with the real SDK.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import { type ServiceBusStandIn, startServiceBusStandIn } from '../../src/servicebus/index.ts';

export interface ConfiguredStandIn {
  readonly bus: ServiceBusStandIn;
  readonly client: ServiceBusClient;
  /** Closes the client and the broker and removes the config's folder. */
  close(): Promise<void>;
}

/** Writes `config` (the emulator's Config.json shape) to a fresh folder and starts the stand-in on it. */
export async function startConfiguredStandIn(config: unknown): Promise<ConfiguredStandIn> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-standin-'));
  const configPath = join(dir, 'Config.json');
  await writeFile(configPath, JSON.stringify(config));
  const bus = await startServiceBusStandIn({ configPath });
  const client = new ServiceBusClient(bus.connectionString);
  return {
    bus,
    client,
    async close() {
      await client.close();
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The next message, however many empty waits it takes. */
export async function receiveOne(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
  for (;;) {
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    if (message) return message;
  }
}

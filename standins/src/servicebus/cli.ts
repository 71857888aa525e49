// Runs the Service Bus stand-in on its own: node standins/src/servicebus/cli.ts --port 5672 --config deploy/servicebus/Config.json
import { parseArgs } from 'node:util';
import { createLogger } from '@logferry/shared/logging/logger';
import { startServiceBusStandIn } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5672' },
    host: { type: 'string', default: '127.0.0.1' },
    config: { type: 'string' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port: ${values.port}`);
  process.exit(2);
}
const standIn = await startServiceBusStandIn({
  port,
  host: values.host,
  // Logs go to stderr so stdout carries only the connection string, for scripts to capture.
  logger: createLogger('servicebus-standin', { destination: process.stderr }),
  ...(values.config ? { configPath: values.config } : {}),
});
console.log(standIn.connectionString);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await standIn.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

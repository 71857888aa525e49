// Runs the Logs Ingestion API stand-in on its own: node standins/src/logs-ingestion/cli.ts --port 8443 [--count-only]
// Prints the endpoint and the CA file to trust (NODE_EXTRA_CA_CERTS); stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startLogsIngestionStandIn } from './server.ts';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'count-only': { type: 'boolean', default: false } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer 0-65535 (got ${values.port})`);
  process.exit(2);
}
const standIn = await startLogsIngestionStandIn({ port, keepRecords: !values['count-only'] });
console.log(JSON.stringify({ endpoint: standIn.endpoint, caCertPath: standIn.caCertPath }));
console.log(`LOGS_INGESTION_ENDPOINT=${standIn.endpoint}`);
console.log(`NODE_EXTRA_CA_CERTS=${standIn.caCertPath}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    standIn.close().then(() => process.exit(0));
  });
}

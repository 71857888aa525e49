import { relative } from 'node:path';
import { loadRoutes } from '@logferry/shared/routes/index';
import type { LocalEndpoints } from '@logferry/standins';

// The installed bin (cli/bin/logferry.mjs): runs on any Node npm runs on, under Node 24 when the Node is older.
const CLI = 'npx logferry';

const cmd = (sub: string, what: string) => `  ${`${CLI} ${sub}`.padEnd(34)}${what}`;

/** What a new user needs after `npm start`: where to look, how to add data, what to try. */
export function banner(e: LocalEndpoints, logDir: string, cwd = process.cwd()): string {
  const rel = relative(cwd, logDir);
  const logs = rel && !rel.startsWith('..') ? rel : logDir;
  const query = (csl: string) =>
    `curl -s ${e.adxEndpoint}/v1/rest/query -H 'content-type: application/json' -d '{"db":"${e.kustoDatabase}","csl":"${csl}"}'`;
  return [
    '',
    'logferry is running locally: six services on stand-ins, no cloud account.',
    '',
    `  Status page        ${e.statusPageUrl}`,
    `  Log Analytics      curl -sk ${e.logsIngestionEndpoint}/stand-in/streams/${e.dcrStream}   (Logs Ingestion stand-in)`,
    ...(e.routesFile
      ? [`                     routes (${relative(cwd, e.routesFile) || e.routesFile}): ${routeStreams(e.routesFile)}`]
      : []),
    `  ADX rows           ${query('TrafficFlows | take 10')}`,
    '                     (tables: TrafficFlows, AuthEvents, DnsQueries; "T | count" works too)',
    `  Service logs       ${logs}/<service>.log`,
    '',
    'Send more data:',
    cmd('seed', 'more Code42 events in S3 (announced on SQS) and ADX sample files'),
    `  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url ${e.aws.endpoint} s3 cp events.json.gz s3://${e.bucket}/code42/file-events/`,
    `    then ${CLI} backfill s3://${e.bucket}/code42/file-events/ --since <time of the copy>   (fauxqs sends no bucket notifications)`,
    `  a file for ADX: name it after its mapping (TrafficFlows-*.csv, AuthEvents-*.json, DnsQueries-*.json.gz), put it in`,
    `  container "${e.dataContainer}" (Azurite's well-known development key, not a secret), then "Scan now" on the page or ${CLI} scan:`,
    `    export AZURE_STORAGE_CONNECTION_STRING='${e.storageConnectionString}'`,
    `    az storage blob upload --container-name ${e.dataContainer} --file TrafficFlows-mine.csv --name TrafficFlows-mine.csv`,
    '',
    'Try:',
    cmd('status', 'counts per status and the failures'),
    cmd('dlq list', 'dead-letter queues of every subscription'),
    cmd('config check --local', "every service's configuration and endpoints"),
    cmd('--help', 'all commands'),
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

/** `Code42Audit → Custom-Code42Audit_CL, …`: which source lands in which stream. */
function routeStreams(routesFile: string): string {
  return loadRoutes(routesFile)
    .map((r) => `${r.name} → ${r.logsIngestion?.stream ?? (r.adx ? 'ADX' : 'DCR_STREAM')}`)
    .join(', ');
}

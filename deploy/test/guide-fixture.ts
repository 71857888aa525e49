// docs/deployment.md as its test reads it: the guide's bash blocks, samples for the values its commands print,
// the values file and optional routes file it installs, and the chart rendered from them for release `logferry`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Manifest, renderChart } from './chart-fixture.ts';
import { expand, heredocs, readGuide, resolver } from './guide-shell.ts';

export const root = join(import.meta.dirname, '../..');
export const guide = readGuide(readFileSync(join(root, 'docs/deployment.md'), 'utf8'));
export const bash = guide.fences.filter((f) => f.lang === 'bash');
export const allBash = bash.map((f) => f.text).join('\n');

/** What the guide's command substitutions would print: values of the shape Azure and AWS return. */
export const SAMPLES: Record<string, string> = {
  TENANT: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  SUB: '3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c',
  AWS_ACCOUNT: '210987654321',
  OIDC_ISSUER: 'https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/6a1b2c3d/',
  CLIENT_ID: '5c7a1e2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d',
  PRINCIPAL_ID: '8d9e0f1a-2b3c-4d5e-9f6a-7b8c9d0e1f2a',
  KEDA_CLIENT_ID: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  KEDA_PRINCIPAL_ID: '1a2b3c4d-5e6f-4a7b-9c8d-0e1f2a3b4c5d',
  SB_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.ServiceBus/namespaces/logferry-prod-sb',
  ME: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
  ST_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.Storage/storageAccounts/logferryprodst',
  LAW_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.OperationalInsights/workspaces/logferry-prod-law',
  DCE_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.Insights/dataCollectionEndpoints/logferry-prod-dce',
  DCE_URL: 'https://logferry-prod-dce-k3x9.westeurope-1.ingest.monitor.azure.com',
  DCR_ID:
    '/subscriptions/3b1e9a2c-5d4f-4e6a-8b7c-9d0e1f2a3b4c/resourceGroups/logferry-prod/providers/Microsoft.Insights/dataCollectionRules/logferry-prod-dcr',
  DCR_IMMUTABLE_ID: 'dcr-7f3e2d1c0b9a48e7a6d5c4b3a2f1e0d9',
  APPINSIGHTS:
    'InstrumentationKey=4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
  ADX_URI: 'https://logferryprodadx.westeurope.kusto.windows.net',
  ADX_INGEST_URI: 'https://ingest-logferryprodadx.westeurope.kusto.windows.net',
  ADX_PRINCIPAL_ID: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  AUD_APP: '4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a',
  ROLE_ARN: 'arn:aws:iam::210987654321:role/logferry-reader',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/210987654321/code42-s3-events-dlq',
  DLQ_ARN: 'arn:aws:sqs:us-east-1:210987654321:code42-s3-events-dlq',
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/210987654321/code42-s3-events',
  STATUS_APP_ID: '6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c',
  STATUS_APP_OBJECT_ID: '7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d',
  ROLE_ID: '8b9c0d1e-2f3a-4b4c-8d5e-6f7a8b9c0d1e',
  STATUS_SP_ID: '9c0d1e2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f',
  SCOPE_ID: '0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f3a',
  TAG: '3f9c2ab',
  TOKEN: 'eyJ0eXAiOiJKV1QifQ.e30.sig',
  // Chosen in step 0, where the guide's own value is an example domain: a user sets their own.
  HOST: 'logferry.secops.contoso.net',
};
export const resolve = resolver(guide, SAMPLES);

/** Literals that mark a value nobody has set yet. */
export const PLACEHOLDER =
  /<[^>]*>|\bexample\.(com|org|net)\b|00000000-0000|11111111-1111|123456789012|myregistry|mycluster|changeme|replace[-_ ]?me|\bTODO\b|\bxxx+\b/i;

export const valuesDoc = heredocs(guide).find((h) => h.target === 'logferry-values.yaml');

/**
 * The helm command that installs the release: the values files it always passes, the one it passes when the file
 * exists (`$( [ -f F ] && echo -f F )`), and --set flags.
 */
export function installCommand(): { release: string; files: string[]; optional: string[]; sets: string[] } {
  const line = allBash.replace(/\\\n\s*/g, ' ').match(/^helm upgrade --install (\S+) deploy\/helm\/logferry (.*)$/m);
  assert.ok(line, 'the guide installs the chart with helm upgrade --install <release> deploy/helm/logferry');
  const optional = /\$\( \[ -f (\S+) \] && echo -f \1 \)/g;
  const args = line[2]!.replace(optional, '');
  return {
    release: line[1]!,
    files: [...args.matchAll(/(?:-f|--values) (\S+)/g)].map((m) => m[1]!),
    optional: [...line[2]!.matchAll(optional)].map((m) => m[1]!),
    sets: [...args.matchAll(/--set (\S+)/g)].map((m) => m[1]!),
  };
}

/** routes.json as the guide's printf and sed write it into logferry-routes.yaml. */
export function routesValues(): unknown {
  const line = `printf '{"routes": %s}\\n' "$(sed -e "s/code42-logs/$BUCKET/g" -e "s/Custom-Code42FileEvents_CL/Custom-$TABLE/g" routes.json)" \\\n  > logferry-routes.yaml`;
  assert.ok(allBash.includes(line), 'the routes file is written as this test reads it');
  const text = readFileSync(join(root, 'routes.json'), 'utf8')
    .replaceAll('code42-logs', resolve('BUCKET'))
    .replaceAll('Custom-Code42FileEvents_CL', `Custom-${resolve('TABLE')}`);
  return parse(`{"routes": ${text}}`);
}

/** The values the guide installs, with the samples for its variables; the mappings file as its printf writes it. */
export function installedValues(withOptional = false): unknown[] {
  const { files, optional, sets } = installCommand();
  assert.deepEqual(sets, [], 'every value is in the values file, none on the command line');
  return [...files, ...(withOptional ? optional : [])].map((file) => {
    if (file === 'logferry-routes.yaml') return routesValues();
    if (file === 'logferry-values.yaml') return parse(expand(valuesDoc!.body, resolve));
    if (file === 'logferry-mappings.yaml') {
      assert.ok(allBash.includes(`printf '{"mappings": %s}\\n' "$(cat mappings.json)" > logferry-mappings.yaml`));
      return parse(`{"mappings": ${readFileSync(join(root, 'mappings.json'), 'utf8')}}`);
    }
    throw new Error(`the guide installs ${file}, which it does not write`);
  });
}

export const NS = resolve('NS');
export function rendered(withOptional = false): Manifest[] {
  return renderChart(installedValues(withOptional), { name: installCommand().release, namespace: NS });
}

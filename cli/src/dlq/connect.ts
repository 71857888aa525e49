// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import { ServiceBusClient } from '@azure/service-bus';
import { createOperatorCredential } from '@logferry/shared/auth/azure-credential';
import { defineConfig, parseConfig } from '@logferry/shared/config/define';
import { azureAuthVars, serviceBusVars } from '@logferry/shared/config/parts';
import { operatorEnv } from '../local/state.ts';

/** A Service Bus client from the environment (or the running local stack); config errors throw ConfigError (exit 78). */
export async function serviceBusClientFromEnv(): Promise<ServiceBusClient> {
  const env = await operatorEnv('s3-fetcher', ['SERVICEBUS_CONNECTION_STRING', 'SERVICEBUS_NAMESPACE']);
  const config = parseConfig(defineConfig('logferry dlq', serviceBusVars, azureAuthVars), env);
  const options = { identifier: `logferry-cli-${process.pid}`, retryOptions: { maxRetries: 2, timeoutInMs: 30_000 } };
  if (config.SERVICEBUS_CONNECTION_STRING) return new ServiceBusClient(config.SERVICEBUS_CONNECTION_STRING, options);
  return new ServiceBusClient(config.SERVICEBUS_NAMESPACE ?? '', createOperatorCredential(config), options);
}

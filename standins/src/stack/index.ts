export * from '../seed/index.ts';
export { createStandInCertificate } from './certificate.ts';
export {
  DEFAULT_ROUTES_FILE,
  dcrRulesFor,
  type LocalStack,
  type LocalStackOptions,
  type LocalStackPorts,
  startLocalStack,
} from './local-stack.ts';
export { formatLogLine } from './log-format.ts';
export { freePort, preferredPort } from './ports.ts';
export { type AwsResources, provisionAws, provisionStorage } from './provision.ts';
export { seedTargetOf } from './seed-target.ts';
export {
  isStackService,
  type LocalEndpoints,
  type ServicePorts,
  STACK_SERVICES,
  type StackService,
  serviceEnvFor,
} from './service-env.ts';
export { REPO_ROOT, type ServiceProcess, type ServiceProcessOptions, startServiceProcess } from './service-process.ts';
export {
  type LocalStackState,
  readStackState,
  recordRunningStack,
  removeStackState,
  STATE_FILE_NAME,
  stateFilePath,
  writeStackState,
} from './state.ts';

export * from './adx/index.ts';
export * from './logs-ingestion/index.ts';
export * from './servicebus/index.ts';
export * from './stack/index.ts';
export * from './sts/index.ts';

export * from './azurite.ts';
export * from './canonical.ts';
export * from './fauxqs.ts';
export * from './handler-spy.ts';
export * from './stage-metrics.ts';
export * from './staged-batches.ts';
export * from './wait.ts';

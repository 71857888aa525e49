export * from './config/define.ts';
export * from './logging/logger.ts';
export * from './messages/index.ts';
export * from './transport/backoff.ts';
export * from './transport/port.ts';

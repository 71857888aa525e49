export * from './azurite.ts';
export * from './fauxqs.ts';

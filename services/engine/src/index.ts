export * from './config.ts';
export * from './topology.ts';

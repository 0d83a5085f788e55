/**
 * @churn/cli: churnctl and the one-process pipeline (`npm start`). Offline form,
 * synthetic populations, replays, and Kafka produce/tail helpers.
 */
export * from './dlq.ts';
export * from './generate.ts';
export * from './offline.ts';
export * from './replay.ts';
export * from './summary.ts';
export * from './topologies.ts';

/**
 * @churn/runtime: what every churn service runs on. Topologies (pure processors with
 * their inputs and outputs) run unchanged on the Kafka runner (transactions, state
 * stores backed by changelog topics, dead letters, metrics) and on the in-process
 * runner (the one-process default and offline replays).
 */
export * from './config.ts';
export * from './http.ts';
export * from './in-process.ts';
export * from './kafka/assigner.ts';
export * from './kafka/client.ts';
export * from './kafka/dead-letter.ts';
export * from './kafka/runner.ts';
export * from './kafka/topics.ts';
export * from './logger.ts';
export * from './main-helpers.ts';
export * from './metrics.ts';
export * from './service.ts';
export * from './topology.ts';

export * from './customer-value.ts';
export * from './decision.ts';
export * from './ids.ts';
export * from './policy.ts';
export * from './processor.ts';

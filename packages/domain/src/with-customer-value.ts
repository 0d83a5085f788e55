/**
 * Lets a per-customer processor keep the customer's value itself, from the same raw
 * events the value processor reads, instead of joining snapshots from another service.
 * The joined snapshot is then always the one the customer's own events produced, in
 * event order, whichever runner runs it: no race between a value topic and the
 * processor's own inputs.
 */
import type { CustomerValue } from '@churn/contracts';
import { type CustomerValueEvent, type CustomerValueState, keepCustomerValue, valueDueAt } from './customer-value.ts';
import { type Emitted, NO_EMIT, type ProcessorContext, type ProcessorResult, type Tick } from './processor.ts';

/** The state of a processor that keeps the customer's value beside its own state. */
export interface WithValue<S> {
  readonly value: CustomerValueState | undefined;
  readonly own: S | undefined;
}

/** A processor that accepts the customer's CustomerValue snapshots as events (to join them). */
export type JoiningProcessor<E, S> = (
  event: E | CustomerValue,
  state: S | undefined,
  ctx: ProcessorContext,
) => ProcessorResult<S>;

function join<E, S>(
  own: S | undefined,
  snapshots: readonly Emitted[],
  processor: JoiningProcessor<E, S>,
  ctx: ProcessorContext,
) {
  let state = own;
  const emit: Emitted[] = [];
  for (const out of snapshots) {
    if (out.topic !== 'churn.customer-value.v1') continue;
    const result = processor(out.value, state, ctx);
    state = result.state;
    emit.push(...result.emit);
  }
  return { state, emit };
}

/**
 * Feeds a raw value event (profile, invoice, survey) to the customer's value; each
 * snapshot it produces is joined into the processor's own state. The snapshots
 * themselves are not emitted: the customer-value service publishes them.
 */
export function updateValue<E, S>(
  event: CustomerValueEvent,
  state: WithValue<S> | undefined,
  processor: JoiningProcessor<E, S>,
  ctx: ProcessorContext,
): ProcessorResult<WithValue<S>> {
  const before = state ?? { value: undefined, own: undefined };
  const valued = keepCustomerValue(event, before.value, ctx);
  if (valued.state === before.value && valued.emit.length === 0) return { state: before, emit: NO_EMIT };
  const joined = join(before.own, valued.emit, processor, ctx);
  return { state: { value: valued.state, own: joined.state }, emit: joined.emit.length > 0 ? joined.emit : NO_EMIT };
}

/** Hands an event of the processor's own to it, with the value left as it is. */
export function updateOwn<E, S>(
  event: E,
  state: WithValue<S> | undefined,
  processor: JoiningProcessor<E, S>,
  ctx: ProcessorContext,
): ProcessorResult<WithValue<S>> {
  const before = state ?? { value: undefined, own: undefined };
  const result = processor(event, before.own, ctx);
  if (result.state === before.own) return { state: before, emit: result.emit };
  return { state: { value: before.value, own: result.state }, emit: result.emit };
}

/** Moves the customer's value on to the clock's time (the 12-month window), joining any snapshot it produces. */
export function tickValue<E, S>(
  customerId: string,
  at: number,
  state: WithValue<S>,
  processor: JoiningProcessor<E, S>,
  ctx: ProcessorContext,
): ProcessorResult<WithValue<S>> {
  if (state.value === undefined) return { state, emit: NO_EMIT };
  const tick: Tick & { customerId: string } = { type: 'Tick', at, customerId };
  return updateValue(tick, state, processor, ctx);
}

/** When `tickValue` can first change the state: when the customer's value can (the processor's own ticks aside). */
export function valueOfStateDueAt<S>(state: WithValue<S> | undefined): number {
  return valueDueAt(state?.value);
}

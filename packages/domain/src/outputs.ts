/**
 * Builders for the output records, with ids derived from the cause and the output's role
 * so that reprocessing an input gives byte-identical records.
 */
import type { AlertKind, ChurnAlert, ContactTask, Offer, Priority, Severity, TaskKind } from '@churn/contracts';
import { deriveId, deriveIdAndEventId } from './ids.ts';
import type { Emitted } from './processor.ts';

export interface TaskSpec {
  readonly kind: TaskKind;
  readonly queue: string;
  readonly priority: Priority;
  readonly dueAt: number;
  readonly offer: Offer;
  readonly instructions: string;
}

/**
 * The id of the task a cause gives rise to in a role; exported so that outcomes can be
 * joined back. Roles are constant strings, unique among the outputs of one cause (task
 * kinds, alert kinds, 'decision', ...), so their hashes stay cached.
 */
export function taskIdOf(cause: string, role: string): string {
  return deriveId(cause, role);
}

/**
 * A task record. Its ids derive from `cause` and `role`; `causationId` defaults to `cause`
 * and differs only when the ids must be stable across several inputs (an invoice's
 * repeated OVERDUE events, a follow-up's due date).
 */
export function taskRecord(
  cause: string,
  role: string,
  customerId: string,
  occurredAt: number,
  spec: TaskSpec,
  causationId: string = cause,
): Emitted {
  const ids = deriveIdAndEventId(cause, role);
  const value: ContactTask = {
    eventId: ids.eventId,
    occurredAt,
    taskId: ids.id,
    customerId,
    causationId,
    kind: spec.kind,
    queue: spec.queue,
    priority: spec.priority,
    dueAt: spec.dueAt,
    offer: spec.offer,
    instructions: spec.instructions,
  };
  return { topic: 'contact-center.tasks.v1', key: customerId, value };
}

export interface AlertSpec {
  readonly kind: AlertKind;
  readonly severity: Severity;
  readonly owner: string;
  readonly message: string;
}

/**
 * An alert record. `customerId` is null for STRUCTURAL_ISSUE, whose key is then `key`
 * (the reason).
 */
export function alertRecord(
  cause: string,
  role: string,
  customerId: string | null,
  key: string,
  occurredAt: number,
  spec: AlertSpec,
  causationId: string = cause,
): Emitted {
  const ids = deriveIdAndEventId(cause, role);
  const value: ChurnAlert = {
    eventId: ids.eventId,
    occurredAt,
    alertId: ids.id,
    causationId,
    kind: spec.kind,
    severity: spec.severity,
    customerId,
    owner: spec.owner,
    message: spec.message,
  };
  return { topic: 'churn.alerts.v1', key, value };
}

/** What a Kafka runner is given: the topology, its clients, and the settings of its processing. */
import type { ContractSerde } from '@churn/serde';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { PipelineMetrics } from '../metrics.ts';
import type { Topology } from '../topology.ts';

export type ProcessingGuarantee = 'exactly_once' | 'at_least_once';

export interface KafkaRunnerOptions<S> {
  topology: Topology<S>;
  kafka: Kafka;
  serde: ContractSerde;
  logger: Logger;
  metrics: PipelineMetrics;
  /** @default 'exactly_once' */
  guarantee?: ProcessingGuarantee;
  /** Identifies this process among the service's instances. */
  instanceId: string;
  /** Partition count for topics created when missing. @default 3 */
  partitions?: number;
  /** @default 1 */
  replicationFactor?: number;
  /** @default 1 MiB */
  maxRecordBytes?: number;
  /**
   * Attempts before a record whose processing keeps failing with a retriable error goes to
   * its dead-letter topic; any other processing error sends it there at the first. @default 3
   */
  maxAttempts?: number;
  /** Wall-clock interval of the topology's clock step; 0 turns it off. @default 60000 */
  tickIntervalMs?: number;
  /**
   * The runner's one source of what time it is: where the wall-clock interval moves
   * caught-up partitions' clocks to, dead-letter times and decision latency. (Waits
   * measured by timers, the merge's mergeIdleMs and the commit interval, run on the
   * process's monotonic time as the timers do.) @default Date.now
   */
  clock?: () => number;
  /**
   * How long the merge waits for a topic whose next records are not fetched yet before
   * it goes on without them. @default 2000
   */
  mergeIdleMs?: number;
  /**
   * How long a transaction that holds only state changes and offsets (nothing a reader
   * waits for) stays open for more records before it commits; one with outputs or dead
   * letters commits at once. Fewer, larger transactions when inputs trickle in; 0 commits
   * every chunk. @default 100
   */
  commitIntervalMs?: number;
  /**
   * How long the group waits for a silent instance (a crashed process, say) before its
   * partitions go to the others; heartbeats go at a tenth of it. @default 30000
   */
  sessionTimeoutMs?: number;
  /**
   * Called when the runner cannot go on in this process (a transaction whose outcome is
   * unknown, a consumer that will not restart): a process exits so that a new one
   * resumes from the committed state. Without it the runner only reports not alive.
   */
  onFatal?: (error: unknown) => void;
}

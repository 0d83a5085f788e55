/**
 * Assigns partition p of every input topic to the same member, so that a customer's
 * records from all input topics (keyed by customerId, same partition count) meet the
 * same state. kafkajs' default round-robin assigner spreads them over members.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED = 'churn-co-partitioned';

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED,
  version: 1,
  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const assignment: Record<string, Record<string, number[]>> = Object.fromEntries(memberIds.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      for (const partition of partitions) {
        const member = memberIds[partition % memberIds.length] as string;
        const byTopic = assignment[member] as Record<string, number[]>;
        const list = byTopic[topic] ?? [];
        list.push(partition);
        byTopic[topic] = list;
      }
    }
    return memberIds.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: assignment[memberId] as Record<string, number[]>,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITIONED,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});

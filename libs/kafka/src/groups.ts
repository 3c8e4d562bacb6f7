import kafkajs, { type Kafka } from 'kafkajs';

const { AssignerProtocol } = kafkajs; // CommonJS: default export only under Node ESM

/** Per member of a consumer group, the partitions of `topic` it owns right now (stable groups only). */
export async function groupAssignments(kafka: Kafka, groupId: string, topic: string): Promise<{ state: string; members: number[][] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    if (!group) return { state: 'Unknown', members: [] };
    const members = group.members.map((m) => {
      const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return [...(assignment?.assignment[topic] ?? [])].sort((a, b) => a - b);
    });
    return { state: group.state, members };
  } finally {
    await admin.disconnect();
  }
}

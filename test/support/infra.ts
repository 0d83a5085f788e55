import { Kafka, logLevel } from 'kafkajs';

/** Returns null when both the broker and the registry answer, else what is wrong. */
export async function probeInfra(brokers: string, registryUrl: string): Promise<string | null> {
  const kafka = new Kafka({
    clientId: 'churn-test-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return `broker at ${brokers} lists no brokers`;
  } catch (err) {
    return `broker at ${brokers} does not answer: ${(err as Error).message}`;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  try {
    const res = await fetch(`${registryUrl.replace(/\/+$/, '')}/subjects`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return `registry at ${registryUrl} answered HTTP ${res.status}`;
  } catch (err) {
    return `registry at ${registryUrl} does not answer: ${(err as Error).message}`;
  }
  return null;
}

/**
 * One engine instance in a process of its own, for the scale-out figure: the deployed
 * engine (its topologies, its consumer groups) with its own instance id. Over IPC:
 * `{ cmd: 'start', env }` starts it and answers `{ ready, cpu }` once every runner has
 * its partitions restored; `{ cmd: 'done' }` answers whether it has processed all its
 * partitions up to the broker's ends, with the partitions it holds; `{ cmd: 'cpu' }`
 * answers its CPU usage; `{ cmd: 'stop' }` stops it and exits.
 */
import { servicesOf } from '@churn/cli';
import { type RunningService, startService } from '@churn/runtime';
import { benchKafka, policy, serviceConfig, sleep } from './common.ts';
import { pipelineDone } from './pipeline.ts';

let service: RunningService | null = null;
const admin = benchKafka('churn-bench-scale-host').admin();

type Message = { cmd: 'start'; env: Record<string, string> } | { cmd: 'done' } | { cmd: 'cpu' } | { cmd: 'stop' };

process.on('message', (message: Message) => {
  void (async () => {
    try {
      if (message.cmd === 'start') {
        const [engine] = servicesOf(policy(), 'engine');
        if (!engine) throw new Error('no engine service');
        await admin.connect();
        service = await startService({
          name: engine.service,
          topologies: engine.topologies,
          config: serviceConfig(message.env),
          handleSignals: false,
        });
        while (!service.runners.every((r) => r.isReady())) await sleep(20);
        process.send?.({ ready: true, cpu: process.cpuUsage() });
      } else if (message.cmd === 'done') {
        const done = service !== null && (await pipelineDone(admin, [service]));
        const held = service?.runners[0]?.assignedPartitions() ?? [];
        process.send?.({ done, held });
      } else if (message.cmd === 'cpu') {
        process.send?.({ cpu: process.cpuUsage() });
      } else {
        await service?.stop();
        await admin.disconnect().catch(() => {});
        process.send?.({ stopped: true }, () => process.exit(0));
      }
    } catch (err) {
      process.send?.({ error: (err as Error).message }, () => process.exit(1));
    }
  })();
});
process.on('disconnect', () => process.exit(0));

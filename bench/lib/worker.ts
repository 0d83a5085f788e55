/**
 * Runs one figure in its own process (forked by run.ts): a fresh heap and JIT per
 * figure, its own CPU profile with --cpu-prof, and no harness work on its event loop.
 * Receives `{ figure, args }` over IPC, answers `{ result }` or `{ error }`.
 */
import { progress } from './common.ts';

const figures = {
  passthrough: () => import('./passthrough.ts'),
  pipeline: () => import('./pipeline.ts'),
  latency: () => import('./latency.ts'),
  serde: () => import('./serde.ts'),
  state: () => import('./state.ts'),
  peer: () => import('./peer.ts'),
  scale: () => import('./scale.ts'),
} as const;

export type FigureName = keyof typeof figures;

process.once('message', (message: { figure: FigureName; args: unknown }) => {
  void (async () => {
    try {
      const module = (await figures[message.figure]()) as { run(args: unknown): Promise<unknown> };
      const result = await module.run(message.args);
      process.send?.({ result }, () => process.exit(0));
    } catch (err) {
      progress(`${message.figure} failed: ${(err as Error).stack ?? String(err)}`);
      process.send?.({ error: (err as Error).message ?? String(err) }, () => process.exit(1));
    }
  })();
});

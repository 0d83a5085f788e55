import { JSON_STATE_CODEC, type StateCodec } from '@churn/runtime';
import type { EngineState } from './topology.ts';

/** How the engine's state is written to its changelog. */
export const engineStateCodec = JSON_STATE_CODEC as StateCodec<EngineState>;

import { gapScenario } from './support/gap-scenario.js';
import { loopringGapRig } from './rigs/loopring-gap.js';

gapScenario(loopringGapRig, { history: true });

import { binanceUsdmGapRig } from './rigs/binance-usdm-gap.js';
import { gapScenario } from './support/gap-scenario.js';

gapScenario(binanceUsdmGapRig, { history: true });

import { xtGapRig } from './rigs/xt-gap.js';
import { gapScenario } from './support/gap-scenario.js';

// XT has an order history filtered by time (GET /future/trade/v1/order/list-history): orders that began and ended
// inside a gap come back exactly.
gapScenario(xtGapRig, { history: true });

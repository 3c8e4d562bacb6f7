import { bsxGapRig } from './rigs/bsx-gap.js';
import { gapScenario } from './support/gap-scenario.js';

// BSX has an order history filtered by time (GET /order-history?start_time=<ns>, BSXSDK): orders that began and
// ended inside a gap come back exactly.
gapScenario(bsxGapRig, { history: true });

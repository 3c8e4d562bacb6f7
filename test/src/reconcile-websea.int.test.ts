import { webseaGapRig } from './rigs/websea-gap.js';
import { gapScenario } from './support/gap-scenario.js';

// WebSea's history (GET /openApi/entrust/historyList) has no time filter, but it pages newest first: the reconciler
// walks it back to the gap's start, so orders that began and ended inside a gap come back exactly, trade lists
// (GET /openApi/entrust/deal) included.
gapScenario(webseaGapRig, { history: true });

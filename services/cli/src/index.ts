export { reconcileCommand, type ReconcileCommandOptions } from './reconcile-command.js';
export { tailCommand, decodeRecord, type TailOptions, type DecodedRecord } from './tail-command.js';
export { getCommand, ordersCommand } from './orders-command.js';
export { dlqListCommand, dlqReplayCommand } from './dlq-command.js';
export { type OpsContext } from './ops.js';

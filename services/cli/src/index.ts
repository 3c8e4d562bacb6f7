export { reconcileCommand, type ReconcileCommandOptions } from './reconcile-command.js';

export * from './frames.js';
export * from './frames-uds.js';
export { BINANCE_USDM_ALGO_ID_PREFIX, binanceUsdmAlgoStatus } from './mapper-uds.js';
export * from './mapper.js';
export * from './client.js';
export {
  BINANCE_USDM_HISTORY_RETENTION_MS,
  BINANCE_USDM_HISTORY_WINDOW_MS,
  BINANCE_USDM_REST_RATE_LIMIT,
  BINANCE_USDM_REST_WEIGHTS,
  BinanceUsdmReconciler,
  type BinanceUsdmReconcilerDeps,
} from './reconciler.js';
export * from './lifecycles.js';
export * from './simulator.js';
export * from './fixtures.js';
export {
  binanceUsdmOrderStatusRequest,
  binanceUsdmSignaturePayload,
  createBinanceUsdmSigner,
  type BinanceUsdmKeyType,
  type BinanceUsdmOrderStatusRequestInput,
  type BinanceUsdmParam,
  type BinanceUsdmParams,
  type BinanceUsdmSignedRequest,
  type BinanceUsdmSigner,
} from './sign.js';
export { WeightPacer as BinanceUsdmWeightPacer, type PacerOptions as BinanceUsdmPacerOptions } from './pacer.js';
export {
  BINANCE_USDM_LISTEN_KEY_PATH,
  BINANCE_USDM_LISTEN_KEY_VALIDITY_MS,
  BINANCE_USDM_USER_STREAM_URL,
  BinanceUsdmUserStreamClient,
  binanceUsdmUserStreamConfigSchema,
  binanceUsdmUserStreamUrlFor,
  type BinanceUsdmUserStreamConfig,
  type BinanceUsdmUserStreamHost,
  type BinanceUsdmUserStreamStats,
} from './user-stream.js';

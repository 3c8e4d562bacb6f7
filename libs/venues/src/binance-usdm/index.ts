export * from './frames.js';
export * from './mapper.js';
export * from './client.js';
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

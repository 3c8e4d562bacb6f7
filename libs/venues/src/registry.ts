import type { z } from 'zod';
import type { Logger } from '@orderstream/kit';
import type { VenueClient, VenueId, VenueMapper } from './types.js';
import { BINANCE_USDM_API_VERSION, BinanceUsdmClient, binanceUsdmClientConfigSchema, binanceUsdmMapper } from './binance-usdm/index.js';
import { BSX_API_VERSION, BsxClient, bsxClientConfigSchema, bsxMapper } from './bsx/index.js';
import { LOOPRING_API_VERSION, LoopringClient, loopringClientConfigSchema, loopringMapper } from './loopring/index.js';
import { WEBSEA_API_VERSION, WebseaClient, webseaClientConfigSchema, webseaMapper } from './websea/index.js';
import { XT_API_VERSION, XtClient, xtClientConfigSchema, xtMapper } from './xt/index.js';

/** Everything the services need of one venue. Adding a venue = one folder + one line below. */
export interface VenueModule<C = unknown> {
  id: VenueId;
  /** value of the api-version header the collector writes and the normalizer reads */
  apiVersion: string;
  mapper: VenueMapper;
  /** the account's `config` object in the collector's accounts file */
  clientConfigSchema: z.ZodType<C, unknown>;
  createClient(config: C, logger: Logger): VenueClient;
}

/** Erases a module's config type for the table (each module checks its own config with its schema). */
function entry<C>(m: VenueModule<C>): VenueModule {
  return m as unknown as VenueModule;
}

export const VENUE_MODULES: Partial<Record<VenueId, VenueModule>> = {
  xt: entry({
    id: 'xt',
    apiVersion: XT_API_VERSION,
    mapper: xtMapper,
    clientConfigSchema: xtClientConfigSchema,
    createClient: (config, logger) => new XtClient(config, { logger }),
  }),
  'binance-usdm': entry({
    id: 'binance-usdm',
    apiVersion: BINANCE_USDM_API_VERSION,
    mapper: binanceUsdmMapper,
    clientConfigSchema: binanceUsdmClientConfigSchema,
    createClient: (config, logger) => new BinanceUsdmClient(config, { logger }),
  }),
  bsx: entry({
    id: 'bsx',
    apiVersion: BSX_API_VERSION,
    mapper: bsxMapper,
    clientConfigSchema: bsxClientConfigSchema,
    createClient: (config, logger) => new BsxClient(config, { logger }),
  }),
  loopring: entry({
    id: 'loopring',
    apiVersion: LOOPRING_API_VERSION,
    mapper: loopringMapper,
    clientConfigSchema: loopringClientConfigSchema,
    createClient: (config, logger) => new LoopringClient(config, { logger }),
  }),
  websea: entry({
    id: 'websea',
    apiVersion: WEBSEA_API_VERSION,
    mapper: webseaMapper,
    clientConfigSchema: webseaClientConfigSchema,
    createClient: (config, logger) => new WebseaClient(config, { logger }),
  }),
};

export function venueModule(venue: string): VenueModule | undefined {
  return (VENUE_MODULES as Record<string, VenueModule | undefined>)[venue];
}

/** The mapper for a raw record's venue + api-version headers, if any. */
export function mapperLookup(venue: string, apiVersion: string): VenueMapper | undefined {
  const m = venueModule(venue);
  return m && m.apiVersion === apiVersion ? m.mapper : undefined;
}

export function registeredVenues(): VenueId[] {
  return Object.keys(VENUE_MODULES) as VenueId[];
}


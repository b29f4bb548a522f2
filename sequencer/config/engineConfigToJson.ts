import type { EngineConfig } from '../../engine/config.ts'

/**
 * The engine part of a node config file for `config` (bigints as decimal strings), to merge with the
 * node settings: what a deployment script writes, and what `loadNodeConfig` reads back to `config`.
 */
export function engineConfigToJson(config: EngineConfig): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(
      {
        chainId: config.chainId,
        settlementAddress: config.settlementAddress,
        markets: config.markets,
        oracle: config.oracle,
        nonceWindow: config.nonceWindow,
        maxOpenOrdersPerAccount: config.maxOpenOrdersPerAccount,
        accountTreeDepth: config.accountTreeDepth,
      },
      (_, v) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  ) as Record<string, unknown>
}

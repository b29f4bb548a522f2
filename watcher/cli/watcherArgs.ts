import type { Address, Hex } from 'viem'
import { z } from 'zod'
import { readCommandLine } from './commandLine.ts'

/** The command line of `npm run watcher`, after checking. */
export interface WatcherArgs {
  rpc: string
  /** Beacon node API for blob-posted batch data; null: the RPC node's own blob methods (anvil). */
  beacon: string | null
  settlement: Address
  engineConfig: string
  dataDir: string
  /** From --key, else SCE_WATCHER_KEY; absent: report only. */
  key: Hex | null
  confirmations: number | null
  pollMs: number
  statusPort: number | null
  workers: number | null
  fromBlock: bigint | null
  logLevel: string
}

export type ParsedWatcherArgs =
  | { ok: true; help: false; args: WatcherArgs }
  | { ok: true; help: true }
  | { ok: false; problems: string[] }

export const WATCHER_USAGE = `Usage: npm run watcher -- --rpc <url> --settlement <address> --engine-config <file.json> --data-dir <dir> [options]

Verifies every SCE batch posted to the settlement contract by replaying it from L1 data, and challenges
a wrong one. See docs/watcher.md.

Required:
  --rpc <url>              Ethereum JSON-RPC endpoint (http or https)
  --settlement <address>   the Settlement contract
  --engine-config <file>   the engine configuration JSON the contract committed to (checked on chain)
  --data-dir <dir>         where watcher.db lives (scan position, verdicts, checkpoints)

Options:
  --beacon <url>           beacon node API, where batches posted in EIP-4844 blobs are read
                           (default: the RPC node's own blob methods, which only anvil has)
  --key <hex>              private key paying challenge bonds and gas (or env SCE_WATCHER_KEY);
                           without one the watcher only reports
  --confirmations <n>      blocks a log must be buried under (default 0 on chain 31337/1337, else 3)
  --poll-ms <n>            between polls (default 2000)
  --status-port <n>        serve GET /status and GET /metrics on 127.0.0.1:<n> (0: any free port)
  --workers <n>            signature-check threads (default: CPU count - 1, at least 1; 0: none)
  --from-block <n>         first block to scan (default: the settlement's deployment block, found on chain)
  --log-level <level>      fatal, error, warn, info, debug or trace (default info)
  --help                   this text

Exit codes: 0 stopped by SIGINT/SIGTERM, 64 bad arguments, 66 engine config file unreadable,
69 RPC unreachable, 70 halted (see the last fatal log line), 78 configuration mismatch.`

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().max(max, `must be at most ${max}`).min(min, `must be at least ${min}`))

const schema = z.strictObject({
  rpc: z
    .string()
    .url('must be a URL')
    .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL'),
  beacon: z
    .string()
    .url('must be a URL')
    .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')
    .optional(),
  settlement: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits')
    .transform((s) => s.toLowerCase() as Address),
  'engine-config': z.string().min(1),
  'data-dir': z.string().min(1),
  key: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be 32 bytes of hex (64 digits, 0x optional)')
    .transform((k) => (k.startsWith('0x') ? k : `0x${k}`) as Hex)
    .optional(),
  confirmations: int(0, 1_000).optional(),
  'poll-ms': int(10, 3_600_000).optional(),
  'status-port': int(0, 65_535).optional(),
  workers: int(0, 256).optional(),
  'from-block': z
    .string()
    .regex(/^[0-9]+$/, 'must be a block number')
    .transform(BigInt)
    .optional(),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).optional(),
  help: z.boolean().optional(),
})

const STRING_OPTIONS = [
  'rpc',
  'beacon',
  'settlement',
  'engine-config',
  'data-dir',
  'key',
  'confirmations',
  'poll-ms',
  'status-port',
  'workers',
  'from-block',
  'log-level',
] as const

/** Checks the whole command line and lists every problem at once. */
export function parseWatcherArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedWatcherArgs {
  const line = readCommandLine(argv, STRING_OPTIONS, schema, {
    name: 'SCE_WATCHER_KEY',
    value: env.SCE_WATCHER_KEY,
  })
  if (line.help) return { ok: true, help: true }
  const problems = [...line.positionals.map((p) => `unexpected argument "${p}"`), ...line.problems]
  const v = line.data
  if (problems.length > 0 || v === null) return { ok: false, problems }
  return {
    ok: true,
    help: false,
    args: {
      rpc: v.rpc,
      beacon: v.beacon ?? null,
      settlement: v.settlement,
      engineConfig: v['engine-config'],
      dataDir: v['data-dir'],
      key: v.key ?? null,
      confirmations: v.confirmations ?? null,
      pollMs: v['poll-ms'] ?? 2_000,
      statusPort: v['status-port'] ?? null,
      workers: v.workers ?? null,
      fromBlock: v['from-block'] ?? null,
      logLevel: v['log-level'] ?? 'info',
    },
  }
}

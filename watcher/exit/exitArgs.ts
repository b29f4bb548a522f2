import type { Address, Hex } from 'viem'
import { z } from 'zod'
import { readCommandLine } from '../cli/commandLine.ts'

export const EXIT_COMMANDS = ['status', 'withdraw', 'freeze', 'escape'] as const
export type ExitCommand = (typeof EXIT_COMMANDS)[number]

/** The command line of `npm run exit`, after checking. */
export interface ExitArgs {
  command: ExitCommand
  rpc: string
  beacon: string | null
  settlement: Address
  engineConfig: string
  /** From --key, else SCE_EXIT_KEY. */
  key: Hex | null
  /** The account to look at or claim for; the key's address when absent. */
  account: Address | null
  fromBlock: bigint | null
  /** A watcher's data directory: start from its newest finalized checkpoint instead of genesis. */
  watcherData: string | null
}

export type ParsedExitArgs =
  | { ok: true; help: false; args: ExitArgs }
  | { ok: true; help: true }
  | { ok: false; problems: string[] }

export const EXIT_USAGE = `Usage: npm run exit -- <command> --rpc <url> --settlement <address> --engine-config <file.json> [options]

Leaving SCE from L1 alone, without the operator. Every command first rebuilds the state at the last
finalized batch by replaying the batches posted on L1 (checked against the finalized root). See
docs/watcher.md, "Leaving without the operator".

Commands:
  status     what the finalized state owes the account: escape equity, finalized withdrawals, claimed or not
  withdraw   claims the account's unclaimed finalized withdrawals (any key may pay the gas)
  freeze     freezes the settlement once a forced withdrawal is overdue or no batch finalized for too long
  escape     once frozen, takes the key's escape equity out against the finalized root (the key's own account)

Required:
  --rpc <url>              Ethereum JSON-RPC endpoint (http or https)
  --settlement <address>   the Settlement contract
  --engine-config <file>   the engine configuration JSON the contract committed to (checked on chain)

Options:
  --key <hex>              the key that signs (or env SCE_EXIT_KEY); required by withdraw, freeze, escape
  --account <address>      the account for status and withdraw (default: the key's address)
  --beacon <url>           beacon node API, where batches posted in EIP-4844 blobs are read
  --from-block <n>         the settlement's deployment block (default: found on chain)
  --watcher-data <dir>     a watcher's data directory: start from its newest checkpoint at or below the
                           finalized batch instead of genesis (needed once early blobs are pruned)
  --help                   this text

Exit codes: 0 done, 64 bad arguments, 66 engine config file or watcher data unreadable, 69 RPC
unreachable, 70 the finalized state could not be rebuilt, 75 refused now (not frozen, freeze not due,
nothing to claim), 78 configuration mismatch.`

const url = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits')
  .transform((s) => s.toLowerCase() as Address)

const schema = z.strictObject({
  rpc: url,
  beacon: url.optional(),
  settlement: address,
  'engine-config': z.string().min(1),
  key: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be 32 bytes of hex (64 digits, 0x optional)')
    .transform((k) => (k.startsWith('0x') ? k : `0x${k}`) as Hex)
    .optional(),
  account: address.optional(),
  'from-block': z
    .string()
    .regex(/^[0-9]+$/, 'must be a block number')
    .transform(BigInt)
    .optional(),
  'watcher-data': z.string().min(1).optional(),
})

const STRING_OPTIONS = [
  'rpc',
  'beacon',
  'settlement',
  'engine-config',
  'key',
  'account',
  'from-block',
  'watcher-data',
] as const

/** Checks the whole command line and lists every problem at once. */
export function parseExitArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedExitArgs {
  const line = readCommandLine(argv, STRING_OPTIONS, schema, {
    name: 'SCE_EXIT_KEY',
    value: env.SCE_EXIT_KEY,
  })
  if (line.help || line.positionals[0] === 'help') return { ok: true, help: true }
  const problems: string[] = []
  const [command, ...extra] = line.positionals
  if (command === undefined) problems.push(`a command is required: ${EXIT_COMMANDS.join(', ')}`)
  else if (!(EXIT_COMMANDS as readonly string[]).includes(command)) {
    problems.push(`unknown command "${command}": use ${EXIT_COMMANDS.join(', ')}`)
  }
  for (const p of extra) problems.push(`unexpected argument "${p}"`)
  problems.push(...line.problems)
  const v = line.data
  if (v !== null && command !== undefined) {
    if (command !== 'status' && v.key === undefined)
      problems.push(`--key (or SCE_EXIT_KEY): ${command} signs a transaction`)
    if (command === 'status' && v.key === undefined && v.account === undefined) {
      problems.push('--account: status needs an account (or a key)')
    }
    if (command === 'escape' && v.account !== undefined) {
      problems.push("--account: escape pays the key's own account only; leave it out")
    }
  }
  if (problems.length > 0 || v === null) return { ok: false, problems }
  return {
    ok: true,
    help: false,
    args: {
      command: command as ExitCommand,
      rpc: v.rpc,
      beacon: v.beacon ?? null,
      settlement: v.settlement,
      engineConfig: v['engine-config'],
      key: v.key ?? null,
      account: v.account ?? null,
      fromBlock: v['from-block'] ?? null,
      watcherData: v['watcher-data'] ?? null,
    },
  }
}

import { parseArgs } from 'node:util'
import type { Address, Hex } from 'viem'
import { z } from 'zod'

export const USAGE = `SCE prover-stub: k-of-n replay attesters behind AttestationVerifier (see prover-stub/README.md).

  npm run prover -- attester --rpc <url> --settlement <address> --engine-config <file>
                             [--key <hex>] [--beacon <url>] [--data-dir <dir>] [--checkpoint-minutes <n>]
                             [--port <n>] [--host <ip>] [--from-block <n>] [--log-level <level>]
      Replays batches from L1 and signs the ones that are right. The key comes from --key or, better,
      the SCE_ATTESTER_KEY environment variable (a flag shows up in the process list). --beacon is the
      beacon node API where batches posted in EIP-4844 blobs are read (default: the RPC node's own blob
      methods, which only anvil has). --data-dir keeps the newest finalized state on disk, refreshed
      every --checkpoint-minutes (default 60), so that a challenge after a restart replays only the
      batches since: without it a restarted attester needs every batch's data since deployment.

  npm run prover -- coordinator --rpc <url> --settlement <address> --attester-url <url> [--attester-url <url> ...]
                                [--threshold <k>] [--engine-config <file>] [--port <n>] [--host <ip>]
                                [--from-block <n>] [--attester-timeout-ms <n>] [--log-level <level>]
      Serves POST /prove: collects k valid attester signatures into a proof. --threshold defaults to the
      verifier contract's THRESHOLD; --engine-config, when given, is checked against the deployment.

  --port 0 (the default) picks a free port; the address is logged. --host defaults to 127.0.0.1.
  --from-block: the settlement's deployment block, where event scans start (default 0).
`

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

interface Common {
  rpcUrl: string
  settlement: Address
  host: string
  port: number
  fromBlock: bigint
  logLevel: LogLevel
}

export type CliCommand =
  | { command: 'help' }
  | (Common & {
      command: 'attester'
      engineConfigFile: string
      privateKey: Hex
      beaconUrl: string | null
      dataDir: string | null
      checkpointMinutes: number
    })
  | (Common & {
      command: 'coordinator'
      attesterUrls: string[]
      threshold: number | null
      engineConfigFile: string | null
      attesterTimeoutMs: number
    })

export class CliError extends Error {
  override readonly name = 'CliError'
}

const url = z.string().url('must be a URL such as http://127.0.0.1:8545')
const common = {
  rpc: url,
  settlement: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, 'must be 0x followed by 40 hex digits')
    .transform((s) => s.toLowerCase() as Address),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65_535).default(0),
  'from-block': z
    .string()
    .regex(/^[0-9]+$/, 'must be a block number')
    .default('0')
    .transform((s) => BigInt(s)),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}
const attesterSchema = z.strictObject({
  ...common,
  'engine-config': z.string().min(1, 'the engine configuration file is required'),
  key: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key')
    .transform((s) => (s.startsWith('0x') ? s.toLowerCase() : `0x${s.toLowerCase()}`) as Hex),
  beacon: url.optional(),
  'data-dir': z.string().min(1).optional(),
  'checkpoint-minutes': z.coerce.number().int().min(1).max(10_080).default(60),
})
const coordinatorSchema = z.strictObject({
  ...common,
  'attester-url': z.array(url).min(1, 'give at least one --attester-url'),
  threshold: z.coerce.number().int().min(1).optional(),
  'engine-config': z.string().min(1).optional(),
  'attester-timeout-ms': z.coerce.number().int().min(1).default(120_000),
})

/** Parses the command line (without node and the script); throws CliError with every problem listed. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliCommand {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help')
    return { command: 'help' }
  if (command !== 'attester' && command !== 'coordinator') {
    throw new CliError(`unknown command "${command}": use attester or coordinator (--help for usage)`)
  }
  let values: Record<string, unknown>
  try {
    values = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: {
        rpc: { type: 'string' },
        settlement: { type: 'string' },
        'engine-config': { type: 'string' },
        key: { type: 'string' },
        beacon: { type: 'string' },
        'data-dir': { type: 'string' },
        'checkpoint-minutes': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'from-block': { type: 'string' },
        'log-level': { type: 'string' },
        'attester-url': { type: 'string', multiple: true },
        threshold: { type: 'string' },
        'attester-timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    throw new CliError(`${(error as Error).message} (--help for usage)`)
  }
  if (values.help === true) return { command: 'help' }
  delete values.help
  if (command === 'attester') {
    const parsed = attesterSchema.safeParse({ ...values, key: values.key ?? env.SCE_ATTESTER_KEY })
    if (!parsed.success) throw new CliError(problems(command, parsed.error))
    const o = parsed.data
    return {
      command,
      ...commonOf(o),
      engineConfigFile: o['engine-config'],
      privateKey: o.key,
      beaconUrl: o.beacon ?? null,
      dataDir: o['data-dir'] ?? null,
      checkpointMinutes: o['checkpoint-minutes'],
    }
  }
  const parsed = coordinatorSchema.safeParse(values)
  if (!parsed.success) throw new CliError(problems(command, parsed.error))
  const o = parsed.data
  if (o.threshold !== undefined && o.threshold > o['attester-url'].length) {
    throw new CliError(
      `coordinator: --threshold ${o.threshold} exceeds the ${o['attester-url'].length} attester URLs given`,
    )
  }
  return {
    command,
    ...commonOf(o),
    attesterUrls: o['attester-url'],
    threshold: o.threshold ?? null,
    engineConfigFile: o['engine-config'] ?? null,
    attesterTimeoutMs: o['attester-timeout-ms'],
  }
}

/** The options both commands take, as `Common`. */
function commonOf(o: z.output<z.ZodObject<typeof common>>): Common {
  return {
    rpcUrl: o.rpc,
    settlement: o.settlement,
    host: o.host,
    port: o.port,
    fromBlock: o['from-block'],
    logLevel: o['log-level'],
  }
}

function problems(command: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const flag = issue.path.map(String).join('.')
    const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
    // Never echo a key back, even a malformed one.
    return `  --${flag === 'key' ? 'key (or SCE_ATTESTER_KEY)' : flag}: ${missing ? 'is required' : issue.message}`
  })
  return `${command}: invalid options (--help for usage):\n${lines.join('\n')}`
}

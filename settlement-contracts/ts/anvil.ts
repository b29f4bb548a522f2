import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Hex, PrivateKeyAccount } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'

/**
 * A throwaway anvil on 127.0.0.1, for tests, benches and the one-machine devnet. Nothing listens on
 * any other interface and nothing forks from a remote chain.
 */

/** Foundry's well-known test mnemonic: the accounts and keys are public, and the same on every run. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

export interface StartAnvilParameters {
  chainId?: number
  /** Dev accounts derived from the mnemonic, each funded with `balanceEther`. */
  accountCount?: number
  mnemonic?: string
  balanceEther?: number
  /** Pinned so that gas figures do not move with anvil's default; matches COMPILER_SETTINGS.evmVersion. */
  hardfork?: string
  /** Genesis block timestamp in seconds; anvil uses the wall clock when absent. */
  genesisTimestampSeconds?: number
  /** Fixed 1 gwei by default so that fee estimates are stable. */
  baseFeeWei?: bigint
  /** Fails the start when anvil has not answered by then. */
  readyTimeoutMs?: number
  /** Extra command-line arguments, appended as given. */
  extraArgs?: readonly string[]
}

export interface Anvil {
  rpcUrl: string
  port: number
  chainId: number
  /** Local signers for the dev accounts, in derivation order. */
  accounts: readonly PrivateKeyAccount[]
  privateKeys: readonly Hex[]
  /** The last lines anvil printed, for error messages. */
  output(): string
  /** Stops anvil and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>
}

export class AnvilStartError extends Error {
  override name = 'AnvilStartError'
}

/** The platform binary itself, not the npm wrapper: one process to kill, and its signals reach anvil. */
export function anvilBinaryPath(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil'
  try {
    const path = createRequire(join(root, 'package.json')).resolve(`${platformPackage}/bin/${binary}`)
    if (existsSync(path)) return path
  } catch {
    // fall back to the wrapper, which finds the binary itself
  }
  const wrapper = join(root, 'node_modules', '.bin', 'anvil')
  if (existsSync(wrapper)) return wrapper
  throw new AnvilStartError(`anvil not found: install @foundry-rs/anvil (looked for ${platformPackage})`)
}

const derivedKeys = new Map<string, Hex[]>()

/** The first `count` private keys of the BIP-44 path m/44'/60'/0'/0/i, as anvil derives them. */
export function devPrivateKeys(mnemonic: string, count: number): Hex[] {
  const cached = derivedKeys.get(mnemonic) ?? []
  for (let i = cached.length; i < count; i++) {
    const key = mnemonicToAccount(mnemonic, { addressIndex: i }).getHdKey().privateKey
    if (key === null) throw new AnvilStartError(`no private key for account ${i}`)
    cached.push(`0x${Buffer.from(key).toString('hex')}`)
  }
  derivedKeys.set(mnemonic, cached)
  return cached.slice(0, count)
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false

/** Last resort: an anvil outlives no process that started it, even when stop() was never reached. */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

async function answersRpc(rpcUrl: string): Promise<boolean> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    })
    return response.ok
  } catch {
    return false
  }
}

/**
 * Spawns anvil on 127.0.0.1 with `--port 0` (the OS picks a free port, which anvil prints) and resolves
 * once it answers JSON-RPC.
 */
export async function startAnvil(params: StartAnvilParameters = {}): Promise<Anvil> {
  const chainId = params.chainId ?? 31337
  const accountCount = params.accountCount ?? 10
  const mnemonic = params.mnemonic ?? ANVIL_MNEMONIC
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--chain-id',
    String(chainId),
    '--accounts',
    String(accountCount),
    '--mnemonic',
    mnemonic,
    '--balance',
    String(params.balanceEther ?? 10_000),
    '--hardfork',
    params.hardfork ?? 'prague',
    '--block-base-fee-per-gas',
    String(params.baseFeeWei ?? 1_000_000_000n),
    ...(params.genesisTimestampSeconds === undefined
      ? []
      : ['--timestamp', String(params.genesisTimestampSeconds)]),
    ...(params.extraArgs ?? []),
  ]
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  installExitHook()
  // An anvil left running keeps no process alive; the exit hook kills it.
  child.unref()
  ;(child.stdout as unknown as { unref?: () => void }).unref?.()
  ;(child.stderr as unknown as { unref?: () => void }).unref?.()

  // Kept short, and always drained: anvil logs every call, and a full pipe would stall it.
  const tail: string[] = []
  const remember = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      tail.push(line)
      if (tail.length > 50) tail.shift()
    }
  }
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      running.delete(child)
      done()
    })
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
  }

  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(
      () => fail(new AnvilStartError(`anvil did not start in time:\n${tail.join('\n')}`)),
      params.readyTimeoutMs ?? 20_000,
    )
    let seen = ''
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8')
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(seen)
      if (m !== null) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        done(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.once('error', (error) => {
      clearTimeout(timer)
      fail(new AnvilStartError(`anvil failed to spawn: ${error.message}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      fail(new AnvilStartError(`anvil exited (${code ?? signal}) before listening:\n${tail.join('\n')}`))
    })
  }).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  child.stdout!.on('data', remember)
  child.stderr!.on('data', remember)

  const rpcUrl = `http://127.0.0.1:${port}`
  const deadline = (params.readyTimeoutMs ?? 20_000) / 50 // rounds of 50 ms; a fraction is a last round
  for (let round = 0; !(await answersRpc(rpcUrl)); round++) {
    if (round >= deadline) {
      await stop()
      throw new AnvilStartError(`anvil at ${rpcUrl} did not answer:\n${tail.join('\n')}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }

  const privateKeys = devPrivateKeys(mnemonic, accountCount)
  return {
    rpcUrl,
    port,
    chainId,
    accounts: privateKeys.map((k) => privateKeyToAccount(k)),
    privateKeys,
    output: () => tail.join('\n'),
    stop,
  }
}

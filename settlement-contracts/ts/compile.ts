import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import solc from 'solc'
import { type Abi, type Hex, keccak256, stringToHex } from 'viem'

/**
 * Compiles settlement-contracts/src with the npm solc and writes what the TypeScript side imports:
 * artifacts/<Contract>.json, artifacts/manifest.json, and ts/generated/{abis,bytecode}.ts.
 * Run it with `npx tsx settlement-contracts/ts/compile.ts`. The outputs are committed, so typecheck and
 * tests need no compile step; compile.test.ts fails when they are stale with respect to the sources.
 */

/** The contracts folder: src/, artifacts/, ts/. */
export const CONTRACTS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Fixed so that the bytecode, and so the gas figures, do not move with a tool default. The EVM version
 * is the one anvil runs (startAnvil pins the same hardfork). No metadata hash: the bytecode depends
 * on the code only; the manifest's sourcesHash tracks the sources byte for byte.
 */
export const COMPILER_SETTINGS = {
  optimizer: { enabled: true, runs: 10_000 },
  evmVersion: 'prague',
  viaIR: false,
  metadata: { bytecodeHash: 'none' },
} as const

export interface CompiledContract {
  contractName: string
  /** Source unit name, relative to the contracts folder, e.g. `src/Settlement.sol`. */
  sourceName: string
  abi: Abi
  /** Creation code; `0x` for interfaces and abstract contracts. */
  bytecode: Hex
  deployedBytecode: Hex
}

export interface CompileResult {
  solcVersion: string
  /** keccak256 of the solc version, the settings and every source, in path order: what staleness is judged on. */
  sourcesHash: Hex
  /** Sorted by contract name. */
  contracts: CompiledContract[]
  warnings: string[]
}

export interface CompileParameters {
  /** Folder holding src/; the default is this package's. */
  root?: string
}

export class SolcCompileError extends Error {
  override name = 'SolcCompileError'
  constructor(readonly errors: readonly string[]) {
    super(`solc: ${errors.length} error(s)\n${errors.join('\n')}`)
  }
}

/** Every .sol file under `<root>/src`, keyed by its path relative to `root` with forward slashes. */
export function readSources(root: string = CONTRACTS_ROOT): Record<string, { content: string }> {
  const sources: Record<string, { content: string }> = {}
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.sol')) {
        sources[relative(root, path).split(sep).join('/')] = { content: readFileSync(path, 'utf8') }
      }
    }
  }
  walk(join(root, 'src'))
  return sources
}

/** The fingerprint the manifest records: sources, settings and compiler version. */
export function sourcesFingerprint(sources: Record<string, { content: string }>): Hex {
  // Keys sorted explicitly: object key order of the input is not part of the fingerprint.
  const canonical = {
    solcVersion: solc.version() as string,
    settings: COMPILER_SETTINGS,
    sources: Object.keys(sources)
      .sort()
      .map((path) => [path, sources[path]!.content]),
  }
  return keccak256(stringToHex(JSON.stringify(canonical)))
}

interface SolcMessage {
  severity: 'error' | 'warning' | 'info'
  formattedMessage?: string
  message: string
}

interface SolcContractOutput {
  abi: Abi
  evm: {
    bytecode: { object: string; linkReferences: Record<string, unknown> }
    deployedBytecode: { object: string }
  }
}

interface SolcOutput {
  errors?: SolcMessage[]
  contracts?: Record<string, Record<string, SolcContractOutput>>
}

/** Compiles every source under `<root>/src`. Throws SolcCompileError on any compiler error. */
export function compileContracts(params: CompileParameters = {}): CompileResult {
  const root = params.root ?? CONTRACTS_ROOT
  const sources = readSources(root)
  if (Object.keys(sources).length === 0)
    throw new SolcCompileError([`no .sol files under ${join(root, 'src')}`])
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      ...COMPILER_SETTINGS,
      outputSelection: {
        '*': {
          '*': ['abi', 'evm.bytecode.object', 'evm.bytecode.linkReferences', 'evm.deployedBytecode.object'],
        },
      },
    },
  }
  // Imports outside src/ resolve against the contracts folder and may not leave it.
  const findImport = (path: string): { contents: string } | { error: string } => {
    const full = resolve(root, path)
    if (!full.startsWith(root + sep)) return { error: `import ${path} leaves ${root}` }
    if (!existsSync(full)) return { error: `import ${path} not found under ${root}` }
    return { contents: readFileSync(full, 'utf8') }
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput
  const messages = output.errors ?? []
  const errors = messages.filter((m) => m.severity === 'error').map((m) => m.formattedMessage ?? m.message)
  if (errors.length > 0) throw new SolcCompileError(errors)
  const warnings = messages
    .filter((m) => m.severity === 'warning')
    .map((m) => m.formattedMessage ?? m.message)

  const contracts: CompiledContract[] = []
  for (const [sourceName, byName] of Object.entries(output.contracts ?? {})) {
    for (const [contractName, c] of Object.entries(byName)) {
      if (Object.keys(c.evm.bytecode.linkReferences).length > 0) {
        throw new SolcCompileError([`${contractName} needs library linking, which this build does not do`])
      }
      contracts.push({
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      })
    }
  }
  contracts.sort((a, b) => (a.contractName < b.contractName ? -1 : a.contractName > b.contractName ? 1 : 0))
  const names = new Set<string>()
  for (const c of contracts) {
    if (names.has(c.contractName)) throw new SolcCompileError([`two contracts are named ${c.contractName}`])
    names.add(c.contractName)
  }
  return {
    solcVersion: solc.version() as string,
    sourcesHash: sourcesFingerprint(sources),
    contracts,
    warnings,
  }
}

/** `Settlement` → `settlement`, `MockUSDC` → `mockUSDC`: the prefix of the generated export names. */
export function exportPrefix(contractName: string): string {
  return contractName.charAt(0).toLowerCase() + contractName.slice(1)
}

export interface ArtifactsManifest {
  solcVersion: string
  settings: typeof COMPILER_SETTINGS
  sourcesHash: Hex
  contracts: string[]
}

const GENERATED_HEADER =
  '// Generated by settlement-contracts/ts/compile.ts from settlement-contracts/src. Do not edit.\n'

/** Writes artifacts/, the manifest and ts/generated/; returns the paths written. */
export function writeArtifacts(result: CompileResult, params: CompileParameters = {}): string[] {
  const root = params.root ?? CONTRACTS_ROOT
  const artifactsDir = join(root, 'artifacts')
  const generatedDir = join(root, 'ts', 'generated')
  mkdirSync(artifactsDir, { recursive: true })
  mkdirSync(generatedDir, { recursive: true })
  const written: string[] = []
  const write = (path: string, text: string): void => {
    writeFileSync(path, text)
    written.push(path)
  }
  for (const c of result.contracts) {
    write(join(artifactsDir, `${c.contractName}.json`), `${JSON.stringify(c, null, 2)}\n`)
  }
  const manifest: ArtifactsManifest = {
    solcVersion: result.solcVersion,
    settings: COMPILER_SETTINGS,
    sourcesHash: result.sourcesHash,
    contracts: result.contracts.map((c) => c.contractName),
  }
  write(join(artifactsDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)

  let abis = GENERATED_HEADER
  abis += `\nexport const sourcesHash = '${result.sourcesHash}' as const\n`
  // Internal-only libraries have an empty ABI and nothing to deploy; the TypeScript side skips them.
  const exported = result.contracts.filter((c) => c.abi.length > 0)
  for (const c of exported) {
    abis += `\n/** ${c.sourceName}:${c.contractName} */\nexport const ${exportPrefix(c.contractName)}Abi = ${JSON.stringify(c.abi)} as const\n`
  }
  write(join(generatedDir, 'abis.ts'), abis)

  let bytecode = GENERATED_HEADER
  for (const c of exported) {
    if (c.bytecode === '0x') continue
    bytecode += `\n/** Creation code of ${c.sourceName}:${c.contractName}. */\nexport const ${exportPrefix(c.contractName)}Bytecode = '${c.bytecode}' as const\n`
  }
  write(join(generatedDir, 'bytecode.ts'), bytecode)
  return written
}

/** Formats the generated files with the repository's biome, so `npm run lint` accepts them as written. */
export function formatGenerated(paths: readonly string[]): void {
  const biome = resolve(CONTRACTS_ROOT, '..', 'node_modules', '.bin', 'biome')
  if (!existsSync(biome)) return
  execFileSync(biome, ['format', '--write', ...paths], {
    cwd: resolve(CONTRACTS_ROOT, '..'),
    stdio: 'ignore',
  })
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  const result = compileContracts()
  for (const w of result.warnings) console.warn(w)
  const written = writeArtifacts(result)
  formatGenerated(written)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(
    `compiled ${result.contracts.map((c) => c.contractName).join(', ')} with solc ${result.solcVersion} in ${seconds} s`,
  )
}

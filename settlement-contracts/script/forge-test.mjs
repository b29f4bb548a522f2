#!/usr/bin/env node
// Runs the Solidity suite offline with the npm forge and the npm solc:
//   node settlement-contracts/script/forge-test.mjs [extra forge test arguments]
//   node settlement-contracts/script/forge-test.mjs --snapshot   (rewrites gas-snapshot from GasTest)
// Prints forge's output and exits with forge's exit code.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = resolve(projectRoot, '..')
const wrapper = join(projectRoot, 'solc-wrapper')

// The npm shim (node_modules/.bin/forge) does not pass forge's exit code on (it always exits 0), so the
// platform binary it wraps is run directly.
function findForge() {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch]
  const binary = process.platform === 'win32' ? 'forge.exe' : 'forge'
  const scope = join(repoRoot, 'node_modules', '@foundry-rs')
  const candidates = [
    arch === undefined ? undefined : join(scope, `forge-${process.platform}-${arch}`, 'bin', binary),
    join(scope, 'forge', 'dist', binary),
  ]
  for (const candidate of candidates) {
    if (candidate !== undefined && existsSync(candidate)) return candidate
  }
  const probe = spawnSync('forge', ['--version'], { stdio: 'ignore' })
  return probe.error === undefined && probe.status === 0 ? 'forge' : undefined
}

const forge = findForge()
if (forge === undefined) {
  process.stderr.write(
    'forge-test: forge not found. Run `npm install` at the repository root (it installs @foundry-rs/forge),\n' +
      'or put a forge binary on PATH.\n',
  )
  process.exit(127)
}
if (!existsSync(wrapper)) {
  process.stderr.write(`forge-test: the compiler wrapper ${wrapper} is missing.\n`)
  process.exit(1)
}

const extra = process.argv.slice(2)
const snapshot = extra.includes('--snapshot')
const forgeArgs = snapshot ? ['test', '--match-contract', 'GasTest', '-vv'] : ['test', ...extra]
forgeArgs.push('--offline', '--use', wrapper, '--root', projectRoot)

const child = spawn(forge, forgeArgs, {
  cwd: projectRoot,
  stdio: snapshot ? ['ignore', 'pipe', 'inherit'] : 'inherit',
  env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '1' },
})
let captured = ''
child.stdout?.on('data', (chunk) => {
  captured += chunk
  process.stdout.write(chunk)
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('error', (error) => {
  process.stderr.write(`forge-test: could not start forge: ${error.message}\n`)
  process.exit(127)
})
child.on('close', (code, signal) => {
  if (signal !== null) process.exit(1)
  if (snapshot && code === 0) writeSnapshot(captured)
  process.exit(code ?? 1)
})

// gas-snapshot: one line per operation, the transaction gas and its parts, as GasTest prints them.
function writeSnapshot(output) {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('GAS '))
    .map((line) => line.slice(4))
    .sort()
  const header =
    '# Settlement gas per call, measured by forge (test/Gas.t.sol; regenerate: node script/forge-test.mjs --snapshot).\n' +
    '# tx = max(21000 + calldata + exec, EIP-7623 floor); exec = the contract call frame; calldata = 16/4 gas per byte.\n'
  writeFileSync(join(projectRoot, 'gas-snapshot'), `${header}${lines.join('\n')}\n`)
}

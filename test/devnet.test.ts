import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/**
 * `npm start` as a newcomer runs it: anvil, the contracts, the sequencer node, three attesters and a
 * coordinator, a watcher and simulated traders, each its own process. It must post batches that the
 * watcher verifies and that finalize, then stop cleanly.
 */
const ROOT = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'sce-devnet-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('npm start (the devnet)', () => {
  it('posts batches the watcher verifies and L1 finalizes, then stops with exit code 0', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'demo/devnet.ts', '--dir', dir, '--exit-after-finalized', '2'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGTERM'), 170_000)
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
    clearTimeout(timer)
    expect(code, out.slice(-4_000)).toBe(0)
    expect(out).toContain('[watcher] batch 1 OK')
    expect(out).toContain('[watcher] batch 2 OK')
    expect(out).not.toContain('WRONG ')
    expect(out).toMatch(/batches posted \d+ finalized [2-9]/)
    expect(out).toContain('2 batches finalized and verified')
  }, 180_000)
})

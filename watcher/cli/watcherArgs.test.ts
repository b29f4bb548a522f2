import { describe, expect, it } from 'vitest'
import { parseWatcherArgs } from './watcherArgs.ts'

const required = [
  '--rpc',
  'http://127.0.0.1:8545',
  '--settlement',
  '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  '--engine-config',
  'engine.json',
  '--data-dir',
  'data',
]
const KEY = `0x${'ab'.repeat(32)}`

describe('parseWatcherArgs', () => {
  it('reads the required options and fills the defaults', () => {
    expect(parseWatcherArgs(required)).toEqual({
      ok: true,
      help: false,
      args: {
        rpc: 'http://127.0.0.1:8545',
        beacon: null,
        settlement: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
        engineConfig: 'engine.json',
        dataDir: 'data',
        key: null,
        confirmations: null,
        pollMs: 2_000,
        statusPort: null,
        workers: null,
        fromBlock: null,
        logLevel: 'info',
      },
    })
  })

  it('reads every option, and the key from the environment when --key is absent', () => {
    const parsed = parseWatcherArgs(
      [
        ...required,
        '--confirmations',
        '3',
        '--poll-ms',
        '500',
        '--status-port',
        '0',
        '--workers',
        '0',
        '--from-block',
        '123',
        '--beacon',
        'http://127.0.0.1:5052',
      ],
      { SCE_WATCHER_KEY: KEY.slice(2) },
    )
    expect(parsed).toMatchObject({
      ok: true,
      args: {
        key: KEY,
        confirmations: 3,
        pollMs: 500,
        statusPort: 0,
        workers: 0,
        fromBlock: 123n,
        beacon: 'http://127.0.0.1:5052',
      },
    })
    expect(
      parseWatcherArgs([...required, '--key', KEY], { SCE_WATCHER_KEY: `0x${'cd'.repeat(32)}` }),
    ).toMatchObject({
      args: { key: KEY },
    })
  })

  it('lists every problem at once', () => {
    const parsed = parseWatcherArgs(
      ['--rpc', 'ws://x', '--settlement', '0x12', '--workers', '-1', '--poll', '5', 'extra', '--data-dir'],
      { SCE_WATCHER_KEY: 'nope' },
    )
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.problems).toEqual(
      expect.arrayContaining([
        'unexpected argument "extra"',
        '--data-dir: needs a value',
        '--rpc: must be an http:// or https:// URL',
        '--settlement: must be 0x followed by 40 hex digits',
        '--engine-config: is required',
        '--key (from SCE_WATCHER_KEY): must be 32 bytes of hex (64 digits, 0x optional)',
        '--poll: unknown option',
      ]),
    )
    expect(parsed.problems.some((p) => p.startsWith('--workers:'))).toBe(true)
  })

  it('answers --help', () => {
    expect(parseWatcherArgs(['--help'])).toEqual({ ok: true, help: true })
  })
})

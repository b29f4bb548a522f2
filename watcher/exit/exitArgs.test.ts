import { describe, expect, it } from 'vitest'
import { parseExitArgs } from './exitArgs.ts'

const CHAIN = [
  '--rpc',
  'http://127.0.0.1:8545',
  '--settlement',
  '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  '--engine-config',
  'engine.json',
]
const KEY = `0x${'ab'.repeat(32)}`
const ALICE = `0x${'a1'.repeat(20)}`

describe('parseExitArgs', () => {
  it('reads a command, the chain options and the key from the environment', () => {
    expect(parseExitArgs(['escape', ...CHAIN], { SCE_EXIT_KEY: KEY.slice(2) })).toEqual({
      ok: true,
      help: false,
      args: {
        command: 'escape',
        rpc: 'http://127.0.0.1:8545',
        beacon: null,
        settlement: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
        engineConfig: 'engine.json',
        key: KEY,
        account: null,
        fromBlock: null,
        watcherData: null,
      },
    })
    expect(
      parseExitArgs([
        'status',
        ...CHAIN,
        '--account',
        ALICE,
        '--from-block',
        '7',
        '--beacon',
        'http://127.0.0.1:5052',
      ]),
    ).toMatchObject({
      ok: true,
      args: { account: ALICE, fromBlock: 7n, beacon: 'http://127.0.0.1:5052', key: null },
    })
  })

  it('says what each command needs', () => {
    expect(parseExitArgs(['withdraw', ...CHAIN])).toEqual({
      ok: false,
      problems: ['--key (or SCE_EXIT_KEY): withdraw signs a transaction'],
    })
    expect(parseExitArgs(['status', ...CHAIN])).toEqual({
      ok: false,
      problems: ['--account: status needs an account (or a key)'],
    })
    expect(parseExitArgs(['escape', ...CHAIN, '--key', KEY, '--account', ALICE])).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/escape pays the key's own account only/)],
    })
  })

  it('lists every problem at once', () => {
    const parsed = parseExitArgs(['leave', 'now', '--rpc', 'ftp://x', '--key', '12', '--bogus', '1'])
    expect(parsed.ok).toBe(false)
    const problems = parsed.ok ? [] : parsed.problems
    expect(problems).toEqual(
      expect.arrayContaining([
        'unknown command "leave": use status, withdraw, freeze, escape',
        'unexpected argument "now"',
        '--rpc: must be an http:// or https:// URL',
        '--key: must be 32 bytes of hex (64 digits, 0x optional)',
        '--settlement: is required',
        '--engine-config: is required',
        '--bogus: unknown option',
      ]),
    )
    expect(parseExitArgs(['--help'])).toEqual({ ok: true, help: true })
  })
})

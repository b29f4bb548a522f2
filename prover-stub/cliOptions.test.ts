import { describe, expect, it } from 'vitest'
import { CliError, parseCliArgs } from './cliOptions.ts'

const KEY = `0x${'ab'.repeat(32)}`
const CHAIN = ['--rpc', 'http://127.0.0.1:8545', '--settlement', `0x${'Cd'.repeat(20)}`]

describe('parseCliArgs', () => {
  it('parses an attester, taking the key from SCE_ATTESTER_KEY', () => {
    const cli = parseCliArgs(['attester', ...CHAIN, '--engine-config', 'e.json', '--port', '7001'], {
      SCE_ATTESTER_KEY: KEY.slice(2),
    })
    expect(cli).toEqual({
      command: 'attester',
      rpcUrl: 'http://127.0.0.1:8545',
      settlement: `0x${'cd'.repeat(20)}`,
      host: '127.0.0.1',
      port: 7001,
      fromBlock: 0n,
      logLevel: 'info',
      engineConfigFile: 'e.json',
      privateKey: KEY,
      beaconUrl: null,
      dataDir: null,
      checkpointMinutes: 60,
    })
    expect(
      parseCliArgs([
        'attester',
        ...CHAIN,
        '--engine-config',
        'e.json',
        '--key',
        KEY,
        '--beacon',
        'http://127.0.0.1:5052',
      ]),
    ).toMatchObject({ beaconUrl: 'http://127.0.0.1:5052' })
  })

  it('parses a coordinator with repeated --attester-url', () => {
    const cli = parseCliArgs([
      'coordinator',
      ...CHAIN,
      '--attester-url',
      'http://127.0.0.1:7001',
      '--attester-url',
      'http://127.0.0.1:7002',
      '--threshold',
      '2',
      '--from-block',
      '12',
    ])
    expect(cli).toMatchObject({
      command: 'coordinator',
      attesterUrls: ['http://127.0.0.1:7001', 'http://127.0.0.1:7002'],
      threshold: 2,
      fromBlock: 12n,
      engineConfigFile: null,
      port: 0,
    })
  })

  it('answers --help', () => {
    expect(parseCliArgs([])).toEqual({ command: 'help' })
    expect(parseCliArgs(['attester', '--help'])).toEqual({ command: 'help' })
  })

  it('lists every problem, and never echoes a key', () => {
    const bad = () =>
      parseCliArgs(['attester', '--rpc', 'nope', '--settlement', '0x12', '--key', 'secretsecret'], {})
    expect(bad).toThrow(CliError)
    try {
      bad()
    } catch (error) {
      const message = (error as Error).message
      expect(message).toMatch(/--rpc/)
      expect(message).toMatch(/--settlement/)
      expect(message).toMatch(/--engine-config: is required/)
      expect(message).toMatch(/--key \(or SCE_ATTESTER_KEY\)/)
      expect(message).not.toContain('secretsecret')
    }
  })

  it('refuses a threshold above the attesters given, unknown flags and unknown commands', () => {
    expect(() =>
      parseCliArgs(['coordinator', ...CHAIN, '--attester-url', 'http://127.0.0.1:7001', '--threshold', '2']),
    ).toThrow(/exceeds the 1 attester URLs/)
    expect(() => parseCliArgs(['coordinator', ...CHAIN, '--bogus', 'x'])).toThrow(CliError)
    expect(() => parseCliArgs(['watch'])).toThrow(/unknown command "watch"/)
  })
})

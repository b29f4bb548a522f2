import { createConnection } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ANVIL_MNEMONIC, devPrivateKeys, startAnvil } from './anvil.ts'

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
  })
}

describe('startAnvil', () => {
  it('derives the keys anvil funds from the mnemonic', () => {
    // Foundry's documented first two dev keys for its test mnemonic.
    expect(devPrivateKeys(ANVIL_MNEMONIC, 2)).toEqual([
      '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
      '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
    ])
  })

  it('listens on a free loopback port, funds the accounts, and is gone after stop', async () => {
    const [a, b] = await Promise.all([
      startAnvil({ accountCount: 2 }),
      startAnvil({ accountCount: 1, chainId: 1337 }),
    ])
    try {
      expect(a.port).not.toBe(b.port)
      expect(a.rpcUrl).toBe(`http://127.0.0.1:${a.port}`)
      const response = await fetch(a.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_getBalance',
          params: [a.accounts[1]!.address, 'latest'],
        }),
      })
      expect(BigInt(((await response.json()) as { result: string }).result)).toBe(10_000n * 10n ** 18n)
      expect(a.accounts.map((x) => x.address)).toEqual([
        '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
        '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      ])
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
    expect(await portOpen(a.port)).toBe(false)
    await a.stop()
  })
})

import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CodecError } from './codecError.ts'
import { decodeBatch } from './decodeBatch.ts'
import { encodeBatch } from './encodeBatch.ts'
import { batchFromJson, bytesToHex, hexToBytes } from './vectors/batchJson.ts'
import { buildInvalidVectors, buildValidVectors, type CodecVectorFile } from './vectors/buildVectors.ts'

const dir = new URL('./vectors/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()

function load(file: string): CodecVectorFile {
  return JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as CodecVectorFile
}

function thrown(f: () => unknown): CodecError {
  try {
    f()
  } catch (e) {
    if (e instanceof CodecError) return e
    throw new Error(`expected a CodecError, got ${String(e)}`)
  }
  throw new Error('expected a CodecError, nothing was thrown')
}

describe('codec vectors', () => {
  it('the stored files are what generate.ts writes', () => {
    expect(files).toEqual(['invalid.json', 'valid.json'])
    expect(load('valid.json')).toEqual(JSON.parse(JSON.stringify(buildValidVectors())))
    expect(load('invalid.json')).toEqual(JSON.parse(JSON.stringify(buildInvalidVectors())))
  })

  for (const file of files) {
    describe(file, () => {
      for (const c of load(file).cases) {
        it(c.name, () => {
          switch (c.kind) {
            case 'roundTrip': {
              const batch = batchFromJson(c.batch)
              const bytes = hexToBytes(c.encodedHex)
              expect(bytesToHex(encodeBatch(batch))).toBe(c.encodedHex)
              expect(decodeBatch(bytes)).toEqual(batch)
              break
            }
            case 'decodeError': {
              const e = thrown(() => decodeBatch(hexToBytes(c.encodedHex)))
              expect({ code: e.code, offset: e.offset }).toEqual({ code: c.code, offset: c.offset })
              break
            }
            case 'encodeError':
              expect(thrown(() => encodeBatch(batchFromJson(c.batch))).code).toBe(c.code)
              break
            default:
              throw new Error(`unknown vector kind ${(c as { kind: string }).kind} in ${file}`)
          }
        })
      }
    })
  }
})

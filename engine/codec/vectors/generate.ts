import { writeFileSync } from 'node:fs'
import { buildInvalidVectors, buildValidVectors } from './buildVectors.ts'

// Run from the repository root: npx tsx engine/codec/vectors/generate.ts
const dir = new URL('.', import.meta.url)
writeFileSync(new URL('valid.json', dir), `${JSON.stringify(buildValidVectors(), null, 2)}\n`)
writeFileSync(new URL('invalid.json', dir), `${JSON.stringify(buildInvalidVectors(), null, 2)}\n`)

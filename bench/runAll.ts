/**
 * `npm run bench`: every benchmark, one after the other, in one process with --expose-gc.
 * Prints `BENCH <name> <value> <unit>` and `RATIO <name> <value>` lines; a benchmark never fails the run.
 * BENCH_QUICK=1 shrinks every size for a smoke run. `npm run bench -- engine matching` runs a subset.
 */
const ALL = [
  'matching',
  'engine',
  'commitment',
  'stateRoot',
  'digest',
  'codec',
  'liquidationIndex',
  'gas',
  'sequencer',
  'watcher',
] as const

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const unknown = wanted.filter((w) => !(ALL as readonly string[]).includes(w))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${ALL.join(', ')}`)
  process.exit(2)
}
const selected = wanted.length > 0 ? wanted : ALL
if (globalThis.gc === undefined) console.log('# memory figures need --expose-gc (npm run bench passes it)')
console.log(`# node ${process.version}, ${process.env.BENCH_QUICK === '1' ? 'quick sizes' : 'full sizes'}`)
let failed = 0
for (const name of selected) {
  const started = performance.now()
  console.log(`# ${name}`)
  try {
    const mod = (await import(`./${name}.bench.ts`)) as { run: () => Promise<void> }
    await mod.run()
  } catch (error) {
    failed++
    console.log(`# ${name} failed: ${error instanceof Error ? error.stack : String(error)}`)
  }
  console.log(`# ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
if (failed > 0) console.log(`# ${failed} benchmark(s) failed to run`)

process.env.BENCH_QUICK = '1'
const m = await import('/work/main/bench/engine.bench.ts')
// @ts-ignore
await m.profileEngineOnly?.()

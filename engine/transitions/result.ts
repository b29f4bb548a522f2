import type { EngineEvent } from '../events.ts'
import type { Rejection } from '../rejections.ts'

export type OpResult = { ok: true; orderId?: number } | Rejection

export interface ApplyResult {
  events: EngineEvent[]
  result: OpResult
}

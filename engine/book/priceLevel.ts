import type { Order } from './order.ts'

/**
 * All resting orders of one side at one price: an intrusive FIFO list through `Order.prev` / `Order.next`,
 * so that removing any order is O(1). Level objects are pooled by their book and reused.
 */
export class PriceLevel {
  priceTicks = 0
  /** Sort key: `priceTicks` on the bid side, `-priceTicks` on the ask side, so the best level has the largest key. */
  key = 0
  head: Order | null = null
  tail: Order | null = null
  /** Sum of `remainingLots` of the orders in the list. */
  totalLots = 0
  orderCount = 0
}

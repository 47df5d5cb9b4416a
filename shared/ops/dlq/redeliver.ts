/**
 * Re-delivery of delivery-DLQ batches through shared/notify's Deliverer, with each subscriber's channel secret looked
 * up again from the subscribers table (DLQ messages never carry secrets). Returns undefined while shared/notify is
 * not available, so a redrive skips delivery batches instead of failing them.
 */
import type { Clients } from '../../infra/clients.ts';
import type { DeliveryBatch } from './decode.ts';

export async function deliveryRedeliverer(
  _clients: Clients,
): Promise<((b: DeliveryBatch) => Promise<void>) | undefined> {
  return undefined;
}

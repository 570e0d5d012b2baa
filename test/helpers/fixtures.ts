import type { Db } from '../../src/db/client.js';
import { customers, orderItems, orders, products } from '../../src/db/schema.js';
import type { OrderStatus } from '../../src/domain/order-status.js';

export interface ProductFixture {
  id: number;
  sku?: string;
  name?: string;
  category?: string;
  priceCents?: number;
  stock?: number;
  tags?: string[];
  createdAt?: string;
}

export interface CustomerFixture {
  id: number;
  email?: string;
  name?: string;
  country?: string | null;
  createdAt?: string;
}

export interface OrderFixture {
  id: number;
  customerId: number;
  status?: OrderStatus;
  createdAt?: string;
  items: { productId: number; quantity: number; unitPriceCents: number }[];
}

export async function insertProducts(db: Db, rows: ProductFixture[]) {
  if (!rows.length) return;
  await db.insert(products).values(
    rows.map((p) => ({
      id: p.id,
      sku: p.sku ?? `SKU-${p.id}`,
      name: p.name ?? `Product ${p.id}`,
      category: p.category ?? 'general',
      priceCents: p.priceCents ?? 1000,
      stock: p.stock ?? 10,
      tags: p.tags ?? [],
      createdAt: new Date(p.createdAt ?? '2024-01-01T00:00:00.000Z'),
    })),
  );
}

export async function insertCustomers(db: Db, rows: CustomerFixture[]) {
  if (!rows.length) return;
  await db.insert(customers).values(
    rows.map((c) => ({
      id: c.id,
      email: c.email ?? `customer${c.id}@example.com`,
      name: c.name ?? `Customer ${c.id}`,
      country: c.country === undefined ? 'DE' : c.country,
      createdAt: new Date(c.createdAt ?? '2024-01-01T00:00:00.000Z'),
    })),
  );
}

export async function insertOrders(db: Db, rows: OrderFixture[]) {
  if (!rows.length) return;
  await db.insert(orders).values(
    rows.map((o) => ({
      id: o.id,
      customerId: o.customerId,
      status: o.status ?? 'paid',
      createdAt: new Date(o.createdAt ?? '2024-03-01T10:00:00.000Z'),
    })),
  );
  const lines = rows.flatMap((o) =>
    o.items.map((item, i) => ({
      orderId: o.id,
      lineNo: i + 1,
      productId: item.productId,
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
    })),
  );
  if (lines.length) await db.insert(orderItems).values(lines);
}

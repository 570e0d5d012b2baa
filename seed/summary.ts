import type { FileCounts } from '../src/legacy/import.js';

/** `products.json: 120 read = 100 inserted + 5 updated + 10 unchanged + 5 rejected`, plus reasons. */
export function summaryLine(file: string, c: FileCounts): string {
  const reasons = Object.entries(c.rejected_by_reason)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return (
    `${file}: ${c.read} read = ${c.inserted} inserted + ${c.updated} updated + ${c.unchanged} unchanged + ${c.rejected} rejected` +
    (reasons ? ` (${reasons})` : '')
  );
}

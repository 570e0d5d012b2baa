const PAGE_BITS = 16;
const LOW_MASK = (1 << PAGE_BITS) - 1;
/** A page holding more ids than this uses a bitmap (8 KiB) instead of a sorted array (2 bytes an id). */
const ARRAY_MAX = 4096;

interface ArrayPage {
  ids: Uint16Array;
  size: number;
}
type Page = ArrayPage | Uint32Array;

/**
 * A set of ids in 0..2^31-1 that stays small however the ids are spread:
 * ids are paged by their high 15 bits, and each page is a sorted array of
 * low halves while sparse and a bitmap once dense (the roaring bitmap
 * layout). A million dense ids take about 128 KiB, a million scattered ones
 * about 2 MiB, where a Set<number> would take tens of MiB.
 */
export class IdSet {
  private readonly pages: (Page | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    const page = this.pages[id >>> PAGE_BITS];
    if (!page) return false;
    const low = id & LOW_MASK;
    if (page instanceof Uint32Array) return ((page[low >>> 5]! >>> (low & 31)) & 1) === 1;
    return search(page, low) >= 0;
  }

  add(id: number): void {
    const key = id >>> PAGE_BITS;
    const low = id & LOW_MASK;
    let page = this.pages[key];
    if (!page) {
      page = { ids: new Uint16Array(4), size: 0 };
      this.pages[key] = page;
    }
    if (page instanceof Uint32Array) {
      const word = low >>> 5;
      const bit = 1 << (low & 31);
      if ((page[word]! & bit) === 0) {
        page[word] = page[word]! | bit;
        this.count++;
      }
      return;
    }
    const at = search(page, low);
    if (at >= 0) return;
    this.count++;
    const insert = -at - 1;
    if (page.size === ARRAY_MAX) {
      this.pages[key] = toBitmap(page, low);
      return;
    }
    if (page.size === page.ids.length) {
      const grown = new Uint16Array(Math.min(ARRAY_MAX, page.ids.length * 2));
      grown.set(page.ids);
      page.ids = grown;
    }
    page.ids.copyWithin(insert + 1, insert, page.size);
    page.ids[insert] = low;
    page.size++;
  }
}

/** Index of `low` in the page, or -(insertion point) - 1. */
function search(page: ArrayPage, low: number): number {
  let lo = 0;
  let hi = page.size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = page.ids[mid]!;
    if (v < low) lo = mid + 1;
    else if (v > low) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

function toBitmap(page: ArrayPage, extra: number): Uint32Array {
  const bits = new Uint32Array(1 << (PAGE_BITS - 5));
  for (const low of [...page.ids.subarray(0, page.size), extra]) bits[low >>> 5] = bits[low >>> 5]! | (1 << (low & 31));
  return bits;
}

// A product is sold while `active`; `archived` stops new orders and leaves it
// out of lists, categories and recommendations, while its history (orders,
// statistics, forecasts) stays whole. There is no hard delete.
export const PRODUCT_STATUSES = ['active', 'archived'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

// Ids the API gives new products and customers start here, far above any id
// a legacy file is likely to bring; an id a later import brings that the API
// already gave is refused (`id_taken`), and the allocation skips ids an import
// took first.
export const FIRST_API_ID = 1_000_000_000;

CREATE TABLE "product_buyers" (
	"product_id" integer PRIMARY KEY NOT NULL,
	"buyers" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "product_buyers_stale" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"product_id" integer NOT NULL,
	"tx" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "product_buyers_stale_tx_product_idx" ON "product_buyers_stale" USING btree ("tx","product_id");--> statement-breakpoint
CREATE INDEX "product_buyers_stale_product_idx" ON "product_buyers_stale" USING btree ("product_id");
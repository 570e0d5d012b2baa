CREATE TABLE "customer_purchases" (
	"customer_id" integer NOT NULL,
	"product_id" integer NOT NULL,
	CONSTRAINT "customer_purchases_pkey" PRIMARY KEY("product_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "customer_purchases_stale" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"customer_id" integer NOT NULL,
	"tx" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "customer_purchases_customer_product_idx" ON "customer_purchases" USING btree ("customer_id","product_id");--> statement-breakpoint
CREATE INDEX "customer_purchases_stale_tx_customer_idx" ON "customer_purchases_stale" USING btree ("tx","customer_id");--> statement-breakpoint
CREATE INDEX "customer_purchases_stale_customer_idx" ON "customer_purchases_stale" USING btree ("customer_id");
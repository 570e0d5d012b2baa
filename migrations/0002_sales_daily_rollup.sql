CREATE TABLE "sales_daily" (
	"day" date PRIMARY KEY NOT NULL,
	"orders" integer NOT NULL,
	"units" bigint NOT NULL,
	"revenue_cents" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sales_daily_by_category" (
	"category" text NOT NULL,
	"day" date NOT NULL,
	"orders" integer NOT NULL,
	"units" bigint NOT NULL,
	"revenue_cents" bigint NOT NULL,
	CONSTRAINT "sales_daily_by_category_pkey" PRIMARY KEY("category","day")
);
--> statement-breakpoint
CREATE TABLE "sales_stale_days" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"day" date NOT NULL,
	"tx" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sales_stale_days_tx_day_idx" ON "sales_stale_days" USING btree ("tx","day");
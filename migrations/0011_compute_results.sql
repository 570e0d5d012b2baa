CREATE TABLE "compute_results" (
	"key" text PRIMARY KEY NOT NULL,
	"endpoint" text NOT NULL,
	"snapshot" text NOT NULL,
	"snapshot_xmin" bigint NOT NULL,
	"products" integer[],
	"customers" integer[],
	"first_day" date,
	"last_day" date,
	"answer" text NOT NULL,
	"bytes" integer NOT NULL,
	"last_used" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "data_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tx" bigint NOT NULL,
	"product_id" integer,
	"customer_id" integer,
	"day" date,
	"everything" boolean DEFAULT false NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "compute_results_last_used_idx" ON "compute_results" USING btree ("last_used");--> statement-breakpoint
CREATE INDEX "compute_results_snapshot_xmin_idx" ON "compute_results" USING btree ("snapshot_xmin");--> statement-breakpoint
CREATE INDEX "data_changes_tx_idx" ON "data_changes" USING btree ("tx");
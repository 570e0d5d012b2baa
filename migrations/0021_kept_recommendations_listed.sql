ALTER TABLE "compute_results" ADD COLUMN "listed" integer[];--> statement-breakpoint
ALTER TABLE "data_changes" ADD COLUMN "purchase_added" boolean DEFAULT false NOT NULL;
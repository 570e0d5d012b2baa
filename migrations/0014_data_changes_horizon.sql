CREATE TABLE "data_changes_horizon" (
	"one" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"pruned_below" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "data_changes_horizon_one_row" CHECK ("data_changes_horizon"."one")
);
--> statement-breakpoint
CREATE TABLE "data_changes_xmin_samples" (
	"at" timestamp with time zone PRIMARY KEY NOT NULL,
	"running_xmin" bigint NOT NULL
);

DROP INDEX "products_name_id_idx";--> statement-breakpoint
CREATE INDEX "products_name_c_id_idx" ON "products" USING btree ("name" collate "C","id");
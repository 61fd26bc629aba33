ALTER TABLE "environments" DROP CONSTRAINT "environments_name_unique";--> statement-breakpoint
ALTER TABLE "test_suites" DROP CONSTRAINT "test_suites_name_unique";--> statement-breakpoint
CREATE UNIQUE INDEX "uq_environments_project_name" ON "environments" USING btree ("project_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_test_suites_project_name" ON "test_suites" USING btree ("project_id","name");
ALTER TABLE "execution_cases" ADD COLUMN "expected_ms" integer;--> statement-breakpoint
ALTER TABLE "execution_cases" ADD COLUMN "job_id" varchar(100);
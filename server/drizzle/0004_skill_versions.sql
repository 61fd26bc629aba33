ALTER TABLE "execution_cases" ADD COLUMN "skill_version" varchar(50);--> statement-breakpoint
ALTER TABLE "test_cases" ADD COLUMN "skill_version" varchar(50);
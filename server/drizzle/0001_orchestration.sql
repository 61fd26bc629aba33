CREATE TABLE "environments" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(100) NOT NULL,
	"description" text,
	"variables" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "environments_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "execution_cases" (
	"id" serial PRIMARY KEY NOT NULL,
	"execution_id" integer NOT NULL,
	"case_id" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"skill_name" varchar(100) NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"depends_on" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"timeout_seconds" integer NOT NULL,
	"retries" integer DEFAULT 0 NOT NULL,
	"dispatch_order" integer DEFAULT 0 NOT NULL,
	"state" varchar(20) DEFAULT 'pending' NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"result_status" varchar(20),
	"outputs" jsonb,
	"compensation_state" varchar(20),
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "ck_execution_cases_state" CHECK (state IN ('pending', 'queued', 'running', 'done', 'skipped', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "environment_id" integer;--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "environment_name" varchar(100);--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "idempotency_key" varchar(255);--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "rerun_of" integer;--> statement-breakpoint
ALTER TABLE "test_results" ADD COLUMN "flaky" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "test_results" ADD COLUMN "compensation" jsonb;--> statement-breakpoint
ALTER TABLE "test_suites" ADD COLUMN "schedule_timezone" varchar(64);--> statement-breakpoint
ALTER TABLE "test_suites" ADD COLUMN "stop_on_error" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "test_suites" ADD COLUMN "max_failures" integer;--> statement-breakpoint
ALTER TABLE "execution_cases" ADD CONSTRAINT "execution_cases_execution_id_test_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."test_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_execution_cases_case" ON "execution_cases" USING btree ("execution_id","case_id");--> statement-breakpoint
CREATE INDEX "idx_execution_cases_state" ON "execution_cases" USING btree ("execution_id","state");--> statement-breakpoint
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_rerun_of_test_executions_id_fk" FOREIGN KEY ("rerun_of") REFERENCES "public"."test_executions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_test_executions_idempotency" ON "test_executions" USING btree ("suite_id","idempotency_key") WHERE idempotency_key IS NOT NULL;
CREATE TABLE "api_tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"token_hash" varchar(128) NOT NULL,
	"token_prefix" varchar(16) NOT NULL,
	"scopes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "artifacts" (
	"id" serial PRIMARY KEY NOT NULL,
	"result_id" integer NOT NULL,
	"kind" varchar(20) NOT NULL,
	"name" varchar(255) NOT NULL,
	"content_type" varchar(255) NOT NULL,
	"size_bytes" bigint NOT NULL,
	"storage_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_artifacts_kind" CHECK (kind IN ('screenshot', 'video', 'trace', 'log', 'attachment'))
);
--> statement-breakpoint
CREATE TABLE "notification_channels" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"type" varchar(20) NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_channels_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "skills_registry" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(100) NOT NULL,
	"category" varchar(50) NOT NULL,
	"description" text,
	"version" varchar(20),
	"enabled" boolean DEFAULT true NOT NULL,
	"params_schema" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "skills_registry_name_unique" UNIQUE("name"),
	CONSTRAINT "ck_skills_registry_category" CHECK (category IN ('browser', 'api', 'data', 'performance', 'security'))
);
--> statement-breakpoint
CREATE TABLE "test_cases" (
	"id" serial PRIMARY KEY NOT NULL,
	"suite_id" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"skill_name" varchar(100) NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"timeout_seconds" integer DEFAULT 300 NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"depends_on" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"retries" integer,
	"group" varchar(100),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_executions" (
	"id" serial PRIMARY KEY NOT NULL,
	"suite_id" integer NOT NULL,
	"status" varchar(20) DEFAULT 'queued' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"total_tests" integer DEFAULT 0 NOT NULL,
	"passed_tests" integer DEFAULT 0 NOT NULL,
	"failed_tests" integer DEFAULT 0 NOT NULL,
	"skipped_tests" integer DEFAULT 0 NOT NULL,
	"execution_time_ms" integer,
	"triggered_by" varchar(100) DEFAULT 'api' NOT NULL,
	"ci_commit_sha" varchar(64),
	"ci_branch" varchar(100),
	"error_message" text,
	CONSTRAINT "ck_test_executions_status" CHECK (status IN ('queued', 'running', 'passed', 'failed', 'error', 'timeout', 'cancelled', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "test_metrics" (
	"id" serial PRIMARY KEY NOT NULL,
	"test_result_id" integer NOT NULL,
	"metric_name" varchar(100) NOT NULL,
	"metric_value" numeric NOT NULL,
	"metric_unit" varchar(20),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_results" (
	"id" serial PRIMARY KEY NOT NULL,
	"execution_id" integer NOT NULL,
	"test_case_id" integer,
	"test_name" varchar(255) NOT NULL,
	"skill_name" varchar(100),
	"status" varchar(20) NOT NULL,
	"error_message" text,
	"error_type" varchar(100),
	"stack_trace" text,
	"execution_time_ms" integer,
	"screenshot_url" varchar(500),
	"video_url" varchar(500),
	"log_url" varchar(500),
	"retry_count" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"steps" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"logs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"outputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ck_test_results_status" CHECK (status IN ('passed', 'failed', 'skipped', 'timeout', 'error')),
	CONSTRAINT "ck_test_results_error_type" CHECK (error_type IS NULL OR error_type IN ('assertion', 'timeout', 'network', 'system'))
);
--> statement-breakpoint
CREATE TABLE "test_suites" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"schedule_cron" varchar(100),
	"max_concurrent_tests" integer DEFAULT 5 NOT NULL,
	"timeout_minutes" integer DEFAULT 60 NOT NULL,
	"retry_on_failure" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "test_suites_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" serial PRIMARY KEY NOT NULL,
	"email" varchar(320) NOT NULL,
	"display_name" varchar(255),
	"password_hash" text,
	"role" varchar(20) DEFAULT 'viewer' NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email"),
	CONSTRAINT "ck_users_role" CHECK (role IN ('admin', 'tester', 'viewer'))
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_result_id_test_results_id_fk" FOREIGN KEY ("result_id") REFERENCES "public"."test_results"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_cases" ADD CONSTRAINT "test_cases_suite_id_test_suites_id_fk" FOREIGN KEY ("suite_id") REFERENCES "public"."test_suites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_executions" ADD CONSTRAINT "test_executions_suite_id_test_suites_id_fk" FOREIGN KEY ("suite_id") REFERENCES "public"."test_suites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_metrics" ADD CONSTRAINT "test_metrics_test_result_id_test_results_id_fk" FOREIGN KEY ("test_result_id") REFERENCES "public"."test_results"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_results" ADD CONSTRAINT "test_results_execution_id_test_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."test_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_results" ADD CONSTRAINT "test_results_test_case_id_test_cases_id_fk" FOREIGN KEY ("test_case_id") REFERENCES "public"."test_cases"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_api_tokens_user" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_artifacts_result" ON "artifacts" USING btree ("result_id");--> statement-breakpoint
CREATE INDEX "idx_artifacts_created" ON "artifacts" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "idx_test_cases_suite" ON "test_cases" USING btree ("suite_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_test_cases_suite_name" ON "test_cases" USING btree ("suite_id","name");--> statement-breakpoint
CREATE INDEX "idx_test_executions_started" ON "test_executions" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_test_executions_status" ON "test_executions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_test_executions_suite" ON "test_executions" USING btree ("suite_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_test_executions_created" ON "test_executions" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_test_metrics_result" ON "test_metrics" USING btree ("test_result_id");--> statement-breakpoint
CREATE INDEX "idx_test_results_execution" ON "test_results" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "idx_test_results_status" ON "test_results" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_test_results_created" ON "test_results" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "uq_test_results_execution_case" ON "test_results" USING btree ("execution_id","test_case_id");--> statement-breakpoint
CREATE VIEW "public"."v_test_suite_statistics" AS (
  SELECT
    ts.id AS suite_id,
    ts.name AS suite_name,
    COUNT(te.id)::int AS total_executions,
    COUNT(te.id) FILTER (WHERE te.status = 'passed')::int AS passed_executions,
    COUNT(te.id) FILTER (WHERE te.status = 'failed')::int AS failed_executions,
    ROUND(COUNT(te.id) FILTER (WHERE te.status = 'passed')::numeric / NULLIF(COUNT(te.id), 0) * 100, 2) AS pass_rate,
    ROUND(AVG(te.execution_time_ms), 2) AS avg_execution_time_ms,
    MAX(te.completed_at) AS last_execution_at
  FROM test_suites ts
  LEFT JOIN test_executions te
    ON te.suite_id = ts.id AND te.completed_at >= NOW() - INTERVAL '30 days'
  GROUP BY ts.id, ts.name
);
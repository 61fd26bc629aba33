CREATE TABLE "case_quarantines" (
	"id" serial PRIMARY KEY NOT NULL,
	"suite_id" integer NOT NULL,
	"case_name" varchar(255) NOT NULL,
	"reason" text NOT NULL,
	"created_by" varchar(320) NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"lifted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "test_executions" ADD COLUMN "quality_gate" jsonb;--> statement-breakpoint
ALTER TABLE "test_results" ADD COLUMN "quarantined" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "test_suites" ADD COLUMN "quality_gate" jsonb;--> statement-breakpoint
ALTER TABLE "case_quarantines" ADD CONSTRAINT "case_quarantines_suite_id_test_suites_id_fk" FOREIGN KEY ("suite_id") REFERENCES "public"."test_suites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_case_quarantines_suite" ON "case_quarantines" USING btree ("suite_id","until");
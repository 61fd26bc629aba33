CREATE TABLE "project_members" (
	"user_id" integer NOT NULL,
	"project_id" integer NOT NULL,
	"role" varchar(20) NOT NULL,
	CONSTRAINT "project_members_user_id_project_id_pk" PRIMARY KEY("user_id","project_id"),
	CONSTRAINT "ck_project_members_role" CHECK (role IN ('admin', 'tester', 'viewer'))
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" serial PRIMARY KEY NOT NULL,
	"slug" varchar(100) NOT NULL,
	"name" varchar(200) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
-- Suites and environments from before projects existed belong to the default project.
INSERT INTO "projects" ("id", "slug", "name") VALUES (1, 'default', 'Default');--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('projects', 'id'), 1);--> statement-breakpoint
-- No release ever wrote api_tokens; rows of the old shape could not be scoped to a project.
DELETE FROM "api_tokens";--> statement-breakpoint
ALTER TABLE "api_tokens" DROP CONSTRAINT "api_tokens_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "api_tokens" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "project_id" integer NOT NULL;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "role" varchar(20) NOT NULL;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "project_id" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "test_suites" ADD COLUMN "project_id" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "is_admin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "last_login_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_project_members_project" ON "project_members" USING btree ("project_id");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_suites" ADD CONSTRAINT "test_suites_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_api_tokens_project" ON "api_tokens" USING btree ("project_id");--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "ck_api_tokens_role" CHECK (role IN ('admin', 'tester', 'viewer'));
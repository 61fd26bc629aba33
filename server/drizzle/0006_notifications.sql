CREATE TABLE "notification_deliveries" (
	"id" serial PRIMARY KEY NOT NULL,
	"channel_id" integer NOT NULL,
	"execution_id" integer NOT NULL,
	"rule" varchar(20) NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"response_status" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "ck_notification_deliveries_status" CHECK (status IN ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "suite_notifications" (
	"suite_id" integer NOT NULL,
	"channel_id" integer NOT NULL,
	"rule" varchar(20) NOT NULL,
	CONSTRAINT "suite_notifications_suite_id_channel_id_pk" PRIMARY KEY("suite_id","channel_id"),
	CONSTRAINT "ck_suite_notifications_rule" CHECK (rule IN ('failure', 'recovery', 'always'))
);
--> statement-breakpoint
ALTER TABLE "notification_channels" DROP CONSTRAINT "notification_channels_name_unique";--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "project_id" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "secrets" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_channel_id_notification_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."notification_channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_execution_id_test_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."test_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suite_notifications" ADD CONSTRAINT "suite_notifications_suite_id_test_suites_id_fk" FOREIGN KEY ("suite_id") REFERENCES "public"."test_suites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "suite_notifications" ADD CONSTRAINT "suite_notifications_channel_id_notification_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."notification_channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_notification_deliveries_run" ON "notification_deliveries" USING btree ("channel_id","execution_id");--> statement-breakpoint
ALTER TABLE "notification_channels" ADD CONSTRAINT "notification_channels_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_notification_channels_project_name" ON "notification_channels" USING btree ("project_id","name");--> statement-breakpoint
ALTER TABLE "notification_channels" ADD CONSTRAINT "ck_notification_channels_type" CHECK (type IN ('webhook', 'slack', 'email'));
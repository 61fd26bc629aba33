CREATE TABLE "artifact_deletions" (
	"storage_key" text PRIMARY KEY NOT NULL,
	"deleted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE FUNCTION "webguard_queue_artifact_file"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "artifact_deletions" ("storage_key") VALUES (OLD."storage_key") ON CONFLICT DO NOTHING;
	RETURN OLD;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "trg_artifacts_queue_file" AFTER DELETE ON "artifacts" FOR EACH ROW EXECUTE FUNCTION "webguard_queue_artifact_file"();

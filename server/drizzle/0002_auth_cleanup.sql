ALTER TABLE "users" DROP CONSTRAINT "ck_users_role";--> statement-breakpoint
ALTER TABLE "api_tokens" DROP COLUMN "scopes";--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "role";
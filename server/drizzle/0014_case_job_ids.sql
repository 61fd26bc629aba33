-- Cases dispatched before 0012 recorded no job id: theirs is the job named after the case's
-- attempt. A claim now checks the job id, so the jobs of unfinished cases are written down.
UPDATE "execution_cases" SET "job_id" = 'case-' || "execution_id" || '-' || "case_id" || '-' || "attempt"
WHERE "job_id" IS NULL AND "state" IN ('queued', 'running');

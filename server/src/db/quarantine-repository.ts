import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { CreateQuarantineBody, Quarantine } from '@webguard/shared';
import { notFound } from '../errors.js';
import type { Database } from './database.js';
import { caseQuarantines } from './schema.js';

const toQuarantine = (row: typeof caseQuarantines.$inferSelect): Quarantine => ({
  id: row.id,
  suite_id: row.suiteId,
  case_name: row.caseName,
  reason: row.reason,
  created_by: row.createdBy,
  created_at: row.createdAt.toISOString(),
  until: row.until.toISOString(),
  lifted_at: row.liftedAt?.toISOString() ?? null,
});

/** Quarantined cases: who put them there, why, and until when. */
export class QuarantineRepository {
  constructor(private readonly db: Database) {}

  async create(
    suiteId: number,
    body: CreateQuarantineBody,
    createdBy: string,
  ): Promise<Quarantine> {
    const [row] = await this.db
      .insert(caseQuarantines)
      .values({
        suiteId,
        caseName: body.case_name,
        reason: body.reason,
        createdBy,
        until: new Date(body.until),
      })
      .returning();
    return toQuarantine(row!);
  }

  /** Quarantines in force now (expired and lifted ones only with `all`). */
  async list(suiteId: number, all = false): Promise<Quarantine[]> {
    const rows = await this.db
      .select()
      .from(caseQuarantines)
      .where(
        all
          ? eq(caseQuarantines.suiteId, suiteId)
          : and(
              eq(caseQuarantines.suiteId, suiteId),
              isNull(caseQuarantines.liftedAt),
              gt(caseQuarantines.until, new Date()),
            ),
      )
      .orderBy(desc(caseQuarantines.id));
    return rows.map(toQuarantine);
  }

  async lift(suiteId: number, id: number): Promise<Quarantine> {
    const [row] = await this.db
      .update(caseQuarantines)
      .set({ liftedAt: new Date() })
      .where(
        and(
          eq(caseQuarantines.id, id),
          eq(caseQuarantines.suiteId, suiteId),
          isNull(caseQuarantines.liftedAt),
        ),
      )
      .returning();
    if (!row) throw notFound('active quarantine', id);
    return toQuarantine(row);
  }
}

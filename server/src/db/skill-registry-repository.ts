import { notInArray, sql } from 'drizzle-orm';
import type { SkillInfo } from '@webguard/shared';
import type { Database } from './database.js';
import { skillsRegistry } from './schema.js';

export class SkillRegistryRepository {
  constructor(private readonly db: Database) {}

  /**
   * Makes `skills_registry` mirror the loaded skills: upserts each, and disables rows of skills
   * that are no longer present (kept, not deleted, so past results still name a known skill).
   */
  async sync(skills: SkillInfo[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (skills.length > 0) {
        await tx
          .insert(skillsRegistry)
          .values(
            skills.map((skill) => ({
              name: skill.name,
              category: skill.category,
              description: skill.description,
              version: skill.version,
              enabled: true,
              paramsSchema: skill.params_schema,
              source: skill.source,
            })),
          )
          .onConflictDoUpdate({
            target: skillsRegistry.name,
            set: {
              category: sql`excluded.category`,
              description: sql`excluded.description`,
              version: sql`excluded.version`,
              enabled: true,
              paramsSchema: sql`excluded.params_schema`,
              source: sql`excluded.source`,
              updatedAt: new Date(),
            },
          });
      }
      const present = skills.map((skill) => skill.name);
      await tx
        .update(skillsRegistry)
        .set({ enabled: false, updatedAt: new Date() })
        .where(present.length > 0 ? notInArray(skillsRegistry.name, present) : undefined);
    });
  }

  async list() {
    return this.db.select().from(skillsRegistry).orderBy(skillsRegistry.name);
  }
}

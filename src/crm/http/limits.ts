import type { FastifyInstance } from 'fastify';
import type { CrmServices } from '../crm-services.js';

/** `/limits`: the daily API allowance as the org counts it, beside a few fixed limits clients read. */
export function limitsRoutes(app: FastifyInstance, services: CrmServices): void {
  app.get('/limits', async () => {
    const { used, max } = services.usage.snapshot();
    return {
      DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used) },
      DailyBulkV2QueryFileStorageMB: { Max: 976_562, Remaining: 976_562 },
      DailyBulkV2QueryJobs: { Max: 10_000, Remaining: 10_000 },
      DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
      DataStorageMB: { Max: 1024, Remaining: 1024 },
      HourlyPublishedStandardVolumePlatformEvents: { Max: 100_000, Remaining: 100_000 },
    };
  });
}

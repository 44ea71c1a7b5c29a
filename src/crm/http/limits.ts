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
      FileStorageMB: { Max: 1024, Remaining: 1024 },
      HourlyPublishedStandardVolumePlatformEvents: { Max: 100_000, Remaining: 100_000 },
      // The rest of the standard list (an Enterprise Edition org's allowances), for clients that
      // read a limit by name (sf org list limits, jsforce's tests); this CRM does not count them.
      ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
      ConcurrentSyncReportRuns: { Max: 20, Remaining: 20 },
      DailyAsyncApexExecutions: { Max: 250_000, Remaining: 250_000 },
      DailyBulkApiRequests: { Max: 15_000, Remaining: 15_000 },
      DailyDurableGenericStreamingApiEvents: { Max: 10_000, Remaining: 10_000 },
      DailyDurableStreamingApiEvents: { Max: 10_000, Remaining: 10_000 },
      DailyGenericStreamingApiEvents: { Max: 10_000, Remaining: 10_000 },
      DailyStreamingApiEvents: { Max: 10_000, Remaining: 10_000 },
      DailyWorkflowEmails: { Max: 390, Remaining: 390 },
      DurableStreamingApiConcurrentClients: { Max: 20, Remaining: 20 },
      HourlyAsyncReportRuns: { Max: 1_200, Remaining: 1_200 },
      HourlySyncReportRuns: { Max: 500, Remaining: 500 },
      MassEmail: { Max: 10, Remaining: 10 },
      SingleEmail: { Max: 15, Remaining: 15 },
      StreamingApiConcurrentClients: { Max: 20, Remaining: 20 },
    };
  });
}

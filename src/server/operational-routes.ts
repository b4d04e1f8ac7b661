import { Express } from 'express';
import type { Services } from '../services';

/** /healthz, /readyz and /metrics: served by API processes and, with WORKER_PORT, by workers. */
export function registerOperationalRoutes(app: Express, services: Pick<Services, 'dataSource' | 'logger' | 'metrics'>): void {
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    try {
      await services.dataSource.query('SELECT 1');
      res.status(200).json({ status: 'ready' });
    } catch (error) {
      services.logger.warn({ err: error }, 'readiness check failed: database not answering');
      res.status(503).json({ status: 'database unavailable' });
    }
  });

  app.get('/metrics', async (_req, res) => {
    try {
      const { contentType, body } = await services.metrics.render();
      res.status(200).type(contentType).send(body);
    } catch (error) {
      services.logger.warn({ err: error }, 'could not collect metrics');
      res.status(503).type('text/plain').send('metrics unavailable: the database did not answer\n');
    }
  });
}

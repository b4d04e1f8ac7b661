import { Express } from 'express';
import type { Services } from '../services';

export function registerOperationalRoutes(app: Express, services: Services): void {
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
}

// The real parts the tsprom server runs on.
import { Engine } from '../promql/engine/engine.js';
import { parseExpr, parseMetricSelector } from '../promql/parser/parser.js';
import { prettify } from '../promql/parser/printer.js';
import { ScrapeManager } from '../scrape/manager.js';
import { targetsRoutes } from '../web/api/targets.js';
import { openDB } from '../tsdb/db.js';
import type { Components } from './server.js';

export function realComponents(): Components {
  return {
    openStorage: (dir, opts) => openDB(dir, opts),
    createEngine: (opts) => new Engine(opts),
    createParser: (features) => ({ parseExpr: (q) => parseExpr(q, { features }), parseMetricSelector, prettify: (e) => prettify(e) }),
    createScrapeService: ({ storage, registry, logger, scrapeFailureLog, features }) => {
      const m = new ScrapeManager({
        appendable: storage,
        registry,
        logger,
        onScrapeFailure: scrapeFailureLog.log,
        createdTimestampZeroIngestion: features.has('created-timestamp-zero-ingestion'),
      });
      return {
        applyConfig: (cfg) => m.applyConfig(cfg),
        stop: () => m.stop(),
        routes: () => targetsRoutes(m),
        metadataList: () => [...m.activeTargets().values()].flatMap((ts) => ts.flatMap((t) => t.listMetadata())),
      };
    },
  };
}

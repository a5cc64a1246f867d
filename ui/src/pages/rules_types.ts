// The shapes of /api/v1/rules.
import type { Metric } from '../format.js';

export interface Alert {
  labels: Metric;
  annotations: Metric;
  state: string;
  activeAt?: string;
  keepFiringSince?: string;
  value: string;
}

export interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  labels?: Metric;
  annotations?: Metric;
  duration?: number;
  keepFiringFor?: number;
  state?: string;
  alerts?: Alert[];
  health: string;
  lastError?: string;
  lastEvaluation: string;
  evaluationTime: number;
}

export interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  limit?: number;
  rules: Rule[];
  lastEvaluation: string;
  evaluationTime: number;
}

export interface RulesData {
  groups: RuleGroup[];
}

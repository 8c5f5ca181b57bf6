/** Threshold rules of a metric (src/signals/threshold-routes.ts); detection settings go through metrics.ts useUpdateMetric. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, projectPath } from './client';
import type { ApiBody, ApiResponse } from './schema.gen';

export const OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const satisfies readonly Condition['operator'][];
export type Operator = (typeof OPERATORS)[number];

type RuleList = ApiResponse<'GET /api/projects/{slug}/metrics/{id}/rules'>;
export type ThresholdRule = RuleList['rules'][number];
export type RuleBody = ThresholdRule['rule'];
export type Condition = RuleBody['condition'];

/** What POST/PATCH take: `rule` is checked by the server (its messages name `rule.condition.value`, ...). */
export type RuleInput = ApiBody<'PATCH /api/projects/{slug}/metrics/{id}/rules/{ruleId}'>;

export const ruleKeys = {
  all: (slug: string) => ['project', slug, 'metrics', 'rules'] as const,
  list: (slug: string, metricId: number) => [...ruleKeys.all(slug), metricId] as const,
  project: (slug: string) => [...ruleKeys.all(slug), 'project'] as const,
};

/** GET /rules: every threshold rule of the project */
export function useProjectRules(slug: string) {
  return useQuery({
    queryKey: ruleKeys.project(slug),
    queryFn: ({ signal }) => api.get<ApiResponse<'GET /api/projects/{slug}/rules'>>(projectPath(slug, '/rules'), undefined, signal),
  });
}

export function useRules(slug: string, metricId: number) {
  return useQuery({
    queryKey: ruleKeys.list(slug, metricId),
    queryFn: ({ signal }) => api.get<RuleList>(projectPath(slug, `/metrics/${metricId}/rules`), undefined, signal),
    enabled: metricId > 0,
  });
}

function useRuleMutation<V>(slug: string, fn: (v: V) => Promise<unknown>) {
  const qc = useQueryClient();
  // the metric's list and the project's list of every rule
  return useMutation({ mutationFn: fn, onSuccess: () => qc.invalidateQueries({ queryKey: ruleKeys.all(slug) }) });
}

export function useCreateRule(slug: string, metricId: number) {
  return useRuleMutation(slug, (input: RuleInput) => api.post<ThresholdRule>(projectPath(slug, `/metrics/${metricId}/rules`), input));
}

export function useUpdateRule(slug: string, metricId: number) {
  return useRuleMutation(slug, ({ id, ...patch }: RuleInput & { id: number }) =>
    api.patch<ThresholdRule>(projectPath(slug, `/metrics/${metricId}/rules/${id}`), patch),
  );
}

export function useDeleteRule(slug: string, metricId: number) {
  return useRuleMutation(slug, (id: number) => api.delete(projectPath(slug, `/metrics/${metricId}/rules/${id}`)));
}

/** "> 100", "change > 20 % over 24 buckets" */
export function describeCondition(c: Condition, unit = ''): string {
  if (c.changeOverPeriod !== undefined)
    return `change ${c.operator} ${c.value} % vs ${c.changeOverPeriod} bucket${c.changeOverPeriod === 1 ? '' : 's'} earlier`;
  return `value ${c.operator} ${c.value}${unit ? ` ${unit}` : ''}`;
}

import { describe, expect, it } from 'vitest';
import { byLabel, histogramMean, parseLabels, parseMetrics, quantile, sum } from '../src/metrics';

const text = `# HELP paddock_sandboxes Sandboxes by state.
# TYPE paddock_sandboxes gauge
paddock_sandboxes{state="running"} 3
paddock_sandboxes{state="stopped"} 1
paddock_pool_ready{template="py",image="base",profile="moderate"} 2
paddock_http_request_duration_seconds_bucket{route="GET /sandboxes",code="200",le="0.01"} 6
paddock_http_request_duration_seconds_bucket{route="GET /sandboxes",code="200",le="0.1"} 9
paddock_http_request_duration_seconds_bucket{route="GET /sandboxes",code="200",le="+Inf"} 10
paddock_http_request_duration_seconds_sum{route="GET /sandboxes",code="200"} 0.5
paddock_http_request_duration_seconds_count{route="GET /sandboxes",code="200"} 10
weird{msg="a \\"quoted\\", {brace}"} 1e3
broken line
go_goroutines NaN
`;

describe('metrics', () => {
  const s = parseMetrics(text);
  it('parses samples and skips comments and bad lines', () => {
    expect(s.filter(x => x.name === 'paddock_sandboxes')).toHaveLength(2);
    expect(s.find(x => x.name === 'weird')).toEqual({ name: 'weird', labels: { msg: 'a "quoted", {brace}' }, value: 1000 });
    expect(s.some(x => x.name === 'broken')).toBe(false);
    expect(s.some(x => x.name === 'go_goroutines')).toBe(false);
  });
  it('sums and groups', () => {
    expect(sum(s, 'paddock_sandboxes')).toBe(4);
    expect(sum(s, 'paddock_sandboxes', { state: 'running' })).toBe(3);
    expect(byLabel(s, 'paddock_sandboxes', 'state')).toEqual({ running: 3, stopped: 1 });
  });
  it('histograms', () => {
    expect(histogramMean(s, 'paddock_http_request_duration_seconds')).toBeCloseTo(0.05);
    expect(quantile(s, 'paddock_http_request_duration_seconds', 0.5)).toBeCloseTo(0.01 * (5 / 6));
    expect(quantile(s, 'paddock_http_request_duration_seconds', 0.9)).toBeCloseTo(0.1);
    expect(quantile(s, 'paddock_http_request_duration_seconds', 0.99)).toBeCloseTo(0.1); // in +Inf: the last finite bound
    expect(quantile([], 'x', 0.5)).toBe(0);
  });
  it('labels with escapes', () => {
    expect(parseLabels('a="x",b="y\\\\z"')).toEqual({ a: 'x', b: 'y\\z' });
  });
});

/** What a receiver answered to "Send test": its status, the start of its body, or why nothing arrived. */
import type { TestResult } from '../../api/alerts';
import { Badge } from '../Badge';

export function TestResultView({ result }: { result: TestResult }) {
  const status = result.status === null ? 'no answer' : `HTTP ${result.status}`;
  return (
    <div className="test-result" role="status" aria-label="Test result" style={{ marginTop: '0.75rem', display: 'grid', gap: '0.35rem' }}>
      <div>
        <Badge tone={result.ok ? 'good' : 'bad'}>{result.ok ? 'Delivered' : 'Failed'}</Badge>{' '}
        <span>
          The receiver answered: <strong>{status}</strong>
        </span>
      </div>
      {result.error && (
        <p className="field-error" style={{ margin: 0 }}>
          {result.error}
        </p>
      )}
      {result.body && (
        <pre className="json" style={{ maxHeight: '12rem' }}>
          {result.body}
        </pre>
      )}
    </div>
  );
}

/** Outbound HTTP for alert destinations (SSRF guard, timeouts, size cap). SKELETON — the destinations work fills it in. */
export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  /** at most 1 MiB */
  body: string;
}

export interface OutboundHttp {
  request(req: OutboundRequest): Promise<OutboundResponse>;
}

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { authKeys } from './api/auth';
import { projectQuery } from './api/projects';
import { App } from './app/App';
import { preloadPage } from './app/routes';
import './styles.css';

const queryClient: QueryClient = new QueryClient({
  // a session that ended (expired, signed out elsewhere) shows the sign-in page, wherever it is noticed
  queryCache: new QueryCache({
    onError: (error) => {
      if (error instanceof ApiError && error.status === 401) void queryClient.invalidateQueries({ queryKey: authKeys.me });
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      // a 4xx will not change by asking again; a network error or a 5xx may
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

// what the first render of this URL needs, fetched alongside the session check rather than after it
preloadPage(location.pathname);
const slug = /^\/p\/([^/]+)\//.exec(location.pathname)?.[1];
if (slug) void queryClient.prefetchQuery(projectQuery(decodeURIComponent(slug)));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);

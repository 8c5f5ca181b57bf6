# Vigil: one image for every role (api, ingest, worker, scheduler); the role is chosen at run time
# with `vigil serve --role ...` (see docker-compose.yml and the README's "Scaled mode").

# ---- build: all dependencies (TypeScript, Vite, esbuild), then the server, SDK and web app ----
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

# ---- run: the built files and production dependencies only ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    VIGIL_DATA_DIR=/var/lib/vigil \
    VIGIL_HOST=0.0.0.0 \
    VIGIL_PORT=3000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/vigil && chown node:node /var/lib/vigil
USER node
EXPOSE 3000
# the write-ahead directory of acknowledged events (and, in embedded mode, the stores) live here
VOLUME /var/lib/vigil
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:3000/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--max-semi-space-size=64", "dist/src/cli.js"]
CMD ["serve"]

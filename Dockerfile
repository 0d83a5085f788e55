# One image for every churn service; the command picks the service:
#   docker run churn-pipeline node services/engine/dist/main.js
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY schemas ./schemas
COPY policies ./policies
COPY packages ./packages
COPY services ./services
COPY test/tsconfig.json ./test/tsconfig.json
COPY patches ./patches
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npx patch-package \
 && npx tsc -b packages/cli \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production METRICS_PORT=9464
WORKDIR /app
COPY --from=build /app /app
USER node
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "packages/cli/dist/start.js"]

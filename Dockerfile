# The panalysis image: one image, several commands (operator, and later gateway).
# Node runs the TypeScript sources directly (type stripping, Node >= 22.18).
FROM docker.io/library/node:22.23.3-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY src ./src
COPY crds ./crds
COPY scripts/versions.env ./scripts/versions.env
USER 65532:65532
ENTRYPOINT ["node", "/app/src/cli/main.ts"]
CMD ["operator", "--config=/etc/panalysis/operator.yaml"]

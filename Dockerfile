# The Tollgate image: one image, two roles (`tollgate worker`, `tollgate receivers`), chosen by the command.
#
# Two stages: the first installs the production dependencies from the lockfile, the second holds only those and the
# source folders the CLI runs (TypeScript through tsx: no build step). Nothing is copied by wildcard: each COPY names
# what it takes, and .dockerignore is an allow-list besides, so ./secrets/, .env, .tollgate/ and allowed_signers can
# never reach an image (secrets reach the containers as Docker secrets, at run time).
#
# The base image is pinned by digest; the tag it was taken from: node:20-bookworm-slim.
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json client.ts worker.ts ./
COPY bin ./bin
COPY activities ./activities
COPY approvals ./approvals
COPY cli ./cli
COPY client ./client
COPY emulator ./emulator
COPY genesys ./genesys
COPY github ./github
COPY ledger ./ledger
COPY listeners ./listeners
COPY migrations ./migrations
COPY outbound ./outbound
COPY platform ./platform
COPY receivers ./receivers
COPY schedules ./schedules
COPY tickets ./tickets
COPY views ./views
COPY workflows ./workflows
USER node
ENTRYPOINT ["node", "bin/tollgate.js"]
CMD ["worker"]

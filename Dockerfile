# The Tollgate image: one image, two roles (`tollgate worker`, `tollgate receivers`), chosen by the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false && npm cache clean --force
COPY . .
USER node
ENTRYPOINT ["node", "bin/tollgate.js"]
CMD ["worker"]

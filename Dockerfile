# Production image: `idp serve` on port 8000. Mount a volume at /var/lib/idp for the instance folder
# (SQLite file, generated keys) or set IDP_DATABASE_URL and IDP_KEY_ENCRYPTION_KEY.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 IDP_INSTANCE_PATH=/var/lib/idp
RUN useradd --system --home /var/lib/idp --create-home idp
WORKDIR /src
COPY pyproject.toml README.md ./
COPY idp ./idp
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY config ./config
RUN pip install --no-cache-dir . && rm -rf /src
USER idp
WORKDIR /var/lib/idp
EXPOSE 8000
CMD ["idp", "serve", "--host", "0.0.0.0", "--port", "8000"]

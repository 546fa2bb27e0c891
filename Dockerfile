# Production image: `idp serve` (granian, one worker per CPU; IDP_WORKERS to change) on port 8000.
#
#   docker run -e IDP_ISSUER=https://id.example.com -p 8000:8000 -v idp-data:/var/lib/idp idp
#
# IDP_ISSUER is required: the public URL clients use (the container refuses to start without it).
# /var/lib/idp is the instance folder: the SQLite file (if IDP_DATABASE_URL is unset), the generated
# secret key and key-encryption key. Keep it on a volume and back it up: the signing keys in the database
# cannot be read without that key-encryption key. With PostgreSQL (compose.yaml) pass
# IDP_DATABASE_URL, IDP_SECRET_KEY and IDP_KEY_ENCRYPTION_KEY instead and the container holds no state.
# `docker stop` sends SIGTERM: requests in flight finish, workers exit within 10 s.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 IDP_INSTANCE_PATH=/var/lib/idp IDP_HOST=0.0.0.0
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
VOLUME /var/lib/idp
EXPOSE 8000
STOPSIGNAL SIGTERM
# Readiness (database reachable, migrations current, signing key loaded), with the Python of the slim image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
ENTRYPOINT ["idp-container"]
CMD ["idp", "serve", "--port", "8000"]

# The helpdesk's image: the same scripts/install and scripts/start as on a server (see
# docs/operations.md; deploy/compose.yml runs it with PostgreSQL). Nothing secret is baked
# in: settings come from the environment at run time.
FROM python:3.11-slim-bookworm

WORKDIR /opt/helpdesk
COPY . .
RUN scripts/install

RUN useradd --system --create-home --home-dir /var/lib/helpdesk helpdesk
USER helpdesk
# ./helpdesk.db (SQLite, when DATABASE_URL is not set) and ./data (attachments) live here.
WORKDIR /var/lib/helpdesk
VOLUME /var/lib/helpdesk

# Inside a container, listen on every interface; publish the ports to choose who reaches them.
ENV HELPDESK_HTTP_HOST=0.0.0.0 \
    HELPDESK_HTTP_PORT=3000 \
    HELPDESK_SMTP_LISTEN=0.0.0.0:2525 \
    MPLCONFIGDIR=/var/lib/helpdesk/.cache/matplotlib
EXPOSE 3000 2525

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["/opt/helpdesk/.venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["/opt/helpdesk/scripts/start"]

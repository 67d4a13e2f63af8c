# card-callback in a container: the contract suite, the reference PSP and the simulator, no Python on the host.
#
#   docker build -t card-callback .
#   docker run --rm card-callback test https://psp-staging.example.com/vipps/card-callback
#   docker run --rm -p 8080:8080 card-callback serve --host 0.0.0.0
#
# Build stage: a virtual environment with the toolkit and every dependency, so the final image carries
# no sources and no pip cache. The contract document is packed into the wheel as callback_core/openapi
# (see pyproject.toml), so the installed toolkit finds it without this checkout.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/card-callback
WORKDIR /src
COPY pyproject.toml README.md ./
COPY openapi/ openapi/
COPY callback_core/ callback_core/
COPY reference_server/ reference_server/
COPY contract_tests/ contract_tests/
COPY simulator/ simulator/
COPY card_callback/ card_callback/
# Not editable: the image must work from the installed wheel alone.
RUN /opt/card-callback/bin/pip install . && /opt/card-callback/bin/card-callback lint

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/card-callback/bin:$PATH
COPY --from=build /opt/card-callback /opt/card-callback
RUN useradd --create-home --uid 10001 card-callback
# An unprivileged user; the reference server keeps its SQLite state under its home (mount a volume
# at /home/card-callback to keep it across containers).
USER card-callback
WORKDIR /home/card-callback
# The HMAC secret comes from the environment (docker run -e CARD_CALLBACK_HMAC_SECRET) or a mounted
# file (--hmac-secret-file /run/secrets/...), never from the image.
EXPOSE 8080
# Python turns SIGINT into a clean shutdown for every command; as PID 1 it would ignore SIGTERM.
STOPSIGNAL SIGINT
ENTRYPOINT ["card-callback"]
CMD ["--help"]

# The one image of every Airflow service in docker-compose.yml: both virtualenvs from the hashed
# lock files (the same installs as `make setup`), the project on top.
FROM python:3.11-slim
WORKDIR /opt/grassroots
COPY requirements/ requirements/
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv venv /opt/grassroots/.venv && VIRTUAL_ENV=/opt/grassroots/.venv uv pip sync --require-hashes requirements/airflow.lock \
 && uv venv /opt/grassroots/.venv-dbt && VIRTUAL_ENV=/opt/grassroots/.venv-dbt uv pip sync --require-hashes requirements/dbt.lock
COPY . .
RUN echo /opt/grassroots/plugins > /opt/grassroots/.venv/lib/python3.11/site-packages/grassroots_plugins.pth
ENV PATH=/opt/grassroots/.venv/bin:$PATH

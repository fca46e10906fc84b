# Environment for running the platform from a checkout (sourced by the Makefile, .ci/run, tests).
# Embedded defaults: DuckDB warehouse, SQLite Airflow metadata in .airflow/, data under data/.
# Every value can be overridden by setting it before sourcing this file.
_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
export GRASSROOTS_HOME="${GRASSROOTS_HOME:-$_root}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_root/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$_root/dags}"
export AIRFLOW__CORE__PLUGINS_FOLDER="${AIRFLOW__CORE__PLUGINS_FOLDER:-$_root/plugins}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="${AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT:-60}"
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__CORE__DEFAULT_TIMEZONE="${AIRFLOW__CORE__DEFAULT_TIMEZONE:-Asia/Shanghai}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"
export AIRFLOW__LOGGING__COLORED_CONSOLE_LOG="${AIRFLOW__LOGGING__COLORED_CONSOLE_LOG:-False}"
export AIRFLOW__COSMOS__ENABLE_TELEMETRY="${AIRFLOW__COSMOS__ENABLE_TELEMETRY:-False}"
export AIRFLOW__COSMOS__PROPAGATE_LOGS="${AIRFLOW__COSMOS__PROPAGATE_LOGS:-False}"
# No usage telemetry from any component: government intranets are offline.
export DO_NOT_TRACK=1 SCARF_ANALYTICS=false SCARF_NO_ANALYTICS=true GX_ANALYTICS_ENABLED=False
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export DBT_PROFILES_DIR="${DBT_PROFILES_DIR:-$_root/dbt_project}"
# Bytecode caches matter here: without them every Airflow CLI call and task recompiles Airflow,
# pandas and Great Expectations (seconds each time).
unset PYTHONDONTWRITEBYTECODE
unset _root

"""Airflow DAG definitions, built by factories; the files in dags/ only call them."""

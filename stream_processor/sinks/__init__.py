"""Sinks: Parquet files and error documents into a local directory (or S3)."""

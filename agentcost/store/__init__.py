"""The steps store: canonical steps kept as a Parquet dataset partitioned by day, so that
reports keep history after the source logs are gone and read only the days they need.

    DIR/manifest.json                       sources read, what of each is stored, the parts
    DIR/steps/day=2026-11-27/part-000001.parquet
    DIR/steps/day=untimed/part-000001.parquet  steps without a start time

The store keeps tokens, never costs: every report prices them with the table it is given.
"""

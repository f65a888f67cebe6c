"""Parses Prometheus text (standard input) with the prometheus_client parser and prints every
sample as JSON: [{"name": ..., "labels": {...}, "value": ...}, ...]. Fails on text the parser
refuses, so a test that uses it checks the format too."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value, "type": family.type})
print(json.dumps(samples))

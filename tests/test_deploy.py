"""The AWS template: cfn-lint (AWS's own linter, with its resource specifications) passes on it, and the Glue
table it declares matches what ingest writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from stats_lib.schema import STORED_SCHEMA
from stats_lib.warehouse.s3 import glue_columns

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "template.yaml"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node)
    if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node)))


def _template() -> dict:
    return yaml.load(TEMPLATE.read_text(), Loader=_Loader)


def test_cfn_lint_passes():
    lint = Path(sys.executable).with_name("cfn-lint")
    proc = subprocess.run([str(lint), str(TEMPLATE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == ""


def test_template_events_table_is_the_stored_schema_with_projection():
    table = _template()["Resources"]["EventsTable"]["Properties"]["TableInput"]
    assert table["StorageDescriptor"]["Columns"] == glue_columns(STORED_SCHEMA)
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.type"] == "date"
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    assert params["projection.dt.range"].endswith(",NOW")


def test_template_wires_the_contract_handlers_and_safe_buckets():
    resources = _template()["Resources"]
    handlers = {r["Properties"]["Handler"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"}
    assert "stats_lib.aws.handlers.ingest_sqs" in handlers
    for name in ("LogBucket", "LakeBucket"):
        props = resources[name]["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    mapping = resources["IngestEventSourceMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    config = resources["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["BytesScannedCutoffPerQuery"] and config["EnforceWorkGroupConfiguration"] is True

"""One boto3 session for a run, checked up front so a missing region or missing credentials is one line that
says which variable to set, not a traceback from deep inside a client; and ``split_uri``, the one reading of an
``s3://bucket/prefix`` location that every AWS user (sources, warehouse, collector, handlers) shares."""

from __future__ import annotations

import boto3
import botocore.exceptions

from ..config import Settings
from ..errors import EnvironmentFault, UserError


class AwsSetupError(EnvironmentFault):
    """The AWS environment is not set up (no region, no credentials): fixed by setting a variable."""


def split_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b/' -> ('bucket', 'a/b')."""
    if not uri.startswith("s3://"):
        raise UserError(f"not an s3:// URI: {uri}", "write s3://bucket/prefix")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise UserError(f"no bucket in {uri}", "write s3://bucket/prefix")
    return bucket, prefix.strip("/")


def session(settings: Settings) -> boto3.Session:
    """A boto3 session in the configured region, with credentials found; else ``AwsSetupError``.

    boto3 also finds the region and credentials in ``~/.aws/config`` and ``~/.aws/credentials`` (or a role on
    AWS), so only a region and credentials that exist nowhere are errors."""
    try:
        aws = boto3.Session(region_name=settings.aws_region) if settings.aws_region else boto3.Session()
        credentials = aws.get_credentials()
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsSetupError(f"AWS is not set up: {exc}", "check AWS_PROFILE and ~/.aws/config") from None
    if not aws.region_name:
        raise AwsSetupError("no AWS region is configured", "set AWS_REGION (or AWS_DEFAULT_REGION), e.g. AWS_REGION=eu-west-1")
    if credentials is None:
        raise AwsSetupError("no AWS credentials found",
                            "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    return aws

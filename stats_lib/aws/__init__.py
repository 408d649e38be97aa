"""The glue between AWS and the library: a checked boto3 session, and the Lambda entry points (``handlers``)."""

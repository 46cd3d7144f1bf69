"""The local Firehose twin's stages: buffer, invoke, convert, error output, prefixes."""

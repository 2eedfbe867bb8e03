"""The MSVED reinflection model: data formats, tag schema, vocabulary, model."""

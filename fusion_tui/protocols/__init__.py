"""Wire protocols: SSE framing, the Anthropic Messages shapes, error bodies."""

"""Wire protocols (the bottom layer, standard library and orjson only): SSE framing, the
Anthropic Messages, OpenAI Chat Completions and Responses shapes (`Wire`), the neutral model,
translation between them through one codec registry (`translation`: `translate` for bodies,
`translate_stream` for streams, `anthropic_view` for the gate), and error bodies both ways
(`errors`)."""

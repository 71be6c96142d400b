"""The dashboard: the only package that imports Textual.

`app` wires the pieces, `bridge` carries events from the bus to widgets in batches,
`screens/` and `widgets/` draw them, `styles/` holds their CSS.
"""

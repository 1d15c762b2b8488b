"""One module per detector; `alerts.registry` finds every module here and checks that it declares `DETECTOR`.

A detector module holds its settings model(s) (the `[alerts.<table>]` keys, each with a default and a comment in
settings.toml), a `detect(ctx)` over the steps of a pass that reads through `ctx.reader` (read-only) and returns
`Finding`s of its declared kinds, and `DETECTOR = Detector(...)`. Kept import-free here: the registry imports the
modules when it is first asked.
"""

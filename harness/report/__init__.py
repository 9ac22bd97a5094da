"""Pure renderers: each turns a result model into the text of one output format."""

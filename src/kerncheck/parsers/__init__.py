"""Pure parsers: text in, typed data out. No I/O here."""

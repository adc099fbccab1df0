"""Renderers: plain JSON for machines, rich text for people."""

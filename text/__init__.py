"""Text front-end (placeholder being replaced)."""
from text.symbols import symbols

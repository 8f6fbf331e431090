"""Pure view functions: data in, a Figure or an HTML string out. Nothing here shows anything."""

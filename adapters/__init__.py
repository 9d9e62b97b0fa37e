"""Chat adapters: thin translations between a platform and paperbot's core."""

"""Paper sources: Hugging Face Daily Papers, arXiv, files. Each yields Papers."""

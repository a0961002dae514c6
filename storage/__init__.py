"""Evidence store: SQLAlchemy models, the content-addressed blob store, and evidence loading."""

from storage.blobs import BlobStore
from storage.db import Store, open_store

__all__ = ["BlobStore", "Store", "open_store"]

"""Column types shared by the ledger's tables (SQLAlchemy Core only: no signing, no event code)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
